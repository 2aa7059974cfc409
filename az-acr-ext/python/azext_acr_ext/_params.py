"""Registers every parameter of the table (_table.COMMANDS) with az, help included."""

from azure.cli.core.commands.parameters import get_enum_type

from azext_acr_ext._table import COMMANDS, LIST, POSITIONAL, SWITCH


def argument_settings(param):
    """The az (argparse) settings of one Param."""
    settings = {"options_list": param.options, "help": param.help}
    if param.kind == POSITIONAL:
        return {"help": param.help, "metavar": param.metavar or param.dest.upper()}
    if param.kind == SWITCH:
        settings["action"] = "store_true"
        return settings
    if param.choices:
        settings["arg_type"] = get_enum_type(param.choices)
    if param.kind == LIST:
        # Both `--ip A B` and `--ip A --ip B`; custom.py flattens the lists.
        settings["nargs"] = "+"
        settings["action"] = "append"
    if param.value_type is not None:
        settings["type"] = param.value_type
    if param.metavar:
        settings["metavar"] = param.metavar
    if param.required:
        settings["required"] = True
    return settings


def load_arguments(loader, _command):
    for command in COMMANDS:
        with loader.argument_context(command.name) as context:
            for param in command.params:
                settings = argument_settings(param)
                context.extra(param.dest, **settings)
                if param.kind == POSITIONAL:
                    # An extra argument always gets an option name; this override removes it.
                    context.positional(param.dest, **settings)
