"""The one handler behind every `az acr-ext` command: arguments -> engine argv, engine JSON -> result.

How the engine's exit codes become az's:
  0  the JSON it printed is the result (stderr lines are shown as warnings);
  1  an error: az fails with the engine's message. When the engine also printed a JSON report (a
     failed check such as `cert verify`), az prints that report like any result (-o and --query
     apply) and then fails with exit code 1 and a message listing the failed checks;
  2  the engine refused an argument value: az prints the engine's message and exits 2;
  3  denied by policy: az prints the report (the verdicts) when there is one, then a
     "Denied by policy" error listing the violations, and exits 3;
  anything else (a crash): an internal error carrying the engine's stderr.
"""

import json

from azure.cli.core import azclierror
from knack.events import EVENT_CLI_POST_EXECUTE, EVENT_CLI_SUCCESSFUL_EXECUTE
from knack.log import get_logger

from azext_acr_ext import _engine, _table

logger = get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DENIED = 0, 1, 2, 3


class PolicyDeniedError(azclierror.UserFault):
    """The organisation's policies denied what was asked (the engine exited 3)."""


def run_engine_command(cmd, **kwargs):
    command = _table.BY_NAME[cmd.name]
    engine = _engine.find(cmd.cli_ctx)
    argv = list(command.engine) + engine_arguments(command, kwargs)
    secret_flags = {param.engine_flag for param in command.params if param.secret}
    completed = _engine.run(engine, argv, secret_flags)
    result = interpret(cmd, command, completed)
    if command.transform is not None and result is not None:
        result = command.transform(result, engine)
    return result


def _flatten(values):
    for value in values:
        if isinstance(value, (list, tuple)):
            for inner in _flatten(value):
                yield inner
        else:
            yield value


def engine_arguments(command, values):
    """The engine's flags for the values az parsed; absent values are left to the engine's defaults."""
    options, positionals = [], []
    for param in command.params:
        value = values.get(param.dest)
        if value is None or value is False or value == []:
            continue
        if param.kind == _table.POSITIONAL:
            positionals.append(str(value))
        elif param.kind == _table.SWITCH:
            options.append(param.engine_flag)
        elif param.kind == _table.LIST:
            options.extend("{}={}".format(param.engine_flag, item) for item in _flatten([value]))
        else:
            options.append("{}={}".format(param.engine_flag, value))
    # `--` so that a positional value such as a file named `-x` is not read as a flag.
    return options + (["--"] + positionals if positionals else [])


def engine_message(stderr, usage=False):
    """The engine's error message without its `error: ` prefix, and for usage errors without the
    engine's own usage lines (they name engine flags, not az's). A policy refusal prints every
    verdict before its `error: ` line; az shows the violations from the report instead, so the
    message starts at the last `error: ` line."""
    lines = stderr.strip().splitlines()
    errors = [index for index, line in enumerate(lines) if line.startswith("error: ")]
    if errors and not usage:
        lines = lines[errors[-1]:]
    if usage:
        kept = []
        for line in lines:
            if not line.strip() or line.startswith(("Usage:", "For more information")):
                break
            kept.append(line)
        lines = kept or lines
    if lines and lines[0].startswith("error: "):
        lines[0] = lines[0][len("error: "):]
    return "\n".join(lines).strip()


def _parse_json(text):
    if not text.strip():
        return None
    return json.loads(text)


def _failed_checks(report):
    if not isinstance(report, dict):
        return []
    details = []
    for check in report.get("checks") or []:
        if isinstance(check, dict) and check.get("outcome") in ("fail", "error"):
            subject = " ({})".format(check["subject"]) if check.get("subject") else ""
            details.append("{}{}: {}".format(check.get("name"), subject, check.get("detail", check.get("outcome"))))
    return details


def _violations(report, depth=0):
    """Every {code, message, field} under a `violations` list, wherever the report nests them."""
    found = []
    if depth > 6:
        return found
    if isinstance(report, dict):
        for key, value in report.items():
            if key == "violations" and isinstance(value, list):
                for violation in value:
                    if isinstance(violation, dict) and violation.get("message"):
                        field = " ({})".format(violation["field"]) if violation.get("field") else ""
                        code = "{}: ".format(violation["code"]) if violation.get("code") else ""
                        found.append("{}{}{}".format(code, violation["message"], field))
            else:
                found.extend(_violations(value, depth + 1))
    elif isinstance(report, list):
        for item in report:
            found.extend(_violations(item, depth + 1))
    return found


def _with_details(message, details):
    return "\n".join([message] + ["  - " + detail for detail in details])


def _exit_with(error, exit_code):
    """Fails the az command with `error`: exit code 1 goes through az's own error handling; 2 and 3,
    which az has no error class for, are printed the same way and then exit with that code."""
    if exit_code == EXIT_FAILED:
        raise error
    error.print_error()
    raise SystemExit(exit_code)


def _fail_after_output(cli_ctx, error, exit_code):
    """Lets az print the result first (so -o and --query apply to a failed check's report), then fails."""

    def forget(_cli_ctx=None, **_kwargs):
        # Also when printing failed: a later command in the same process must not inherit this error.
        cli_ctx.unregister_event(EVENT_CLI_SUCCESSFUL_EXECUTE, fail)
        cli_ctx.unregister_event(EVENT_CLI_POST_EXECUTE, forget)

    def fail(_cli_ctx, **_kwargs):
        forget()
        _exit_with(error, exit_code)

    cli_ctx.register_event(EVENT_CLI_SUCCESSFUL_EXECUTE, fail)
    cli_ctx.register_event(EVENT_CLI_POST_EXECUTE, forget)


def interpret(cmd, command, completed):
    code = completed.returncode
    try:
        report = _parse_json(completed.stdout)
        parse_error = None
    except ValueError as error:
        report, parse_error = None, error

    if code == EXIT_OK:
        for line in completed.stderr.strip().splitlines():
            logger.warning(line[len("warning: "):] if line.startswith("warning: ") else line)
        if parse_error is not None:
            raise azclierror.CLIInternalError("az-acr-ext {} printed output that is not JSON ({}): {!r}".format(
                " ".join(command.engine), parse_error, completed.stdout[:200]))
        return report

    message = engine_message(completed.stderr, usage=code == EXIT_USAGE)
    if code == EXIT_FAILED:
        if report is None:
            raise azclierror.UnclassifiedUserFault(message or "az-acr-ext {} failed.".format(" ".join(command.engine)))
        error = azclierror.ValidationError(_with_details(message or "the check failed", _failed_checks(report)))
        _fail_after_output(cmd.cli_ctx, error, EXIT_FAILED)
        return report
    if code == EXIT_USAGE:
        _exit_with(azclierror.InvalidArgumentValueError(message), EXIT_USAGE)
    if code == EXIT_DENIED:
        if "denied by policy" not in message.lower():
            message = "Denied by policy: " + message if message else "Denied by policy."
        error = PolicyDeniedError(_with_details(message, _violations(report)))
        if report is None:
            _exit_with(error, EXIT_DENIED)
        _fail_after_output(cmd.cli_ctx, error, EXIT_DENIED)
        return report

    how = "was killed by signal {}".format(-code) if code < 0 else "failed with exit code {}".format(code)
    raise azclierror.CLIInternalError("az-acr-ext {} {} unexpectedly: {}".format(
        " ".join(command.engine), how, completed.stderr.strip() or "(no message)"))
