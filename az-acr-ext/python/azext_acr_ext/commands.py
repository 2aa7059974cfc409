"""Registers every command of the table (_table.COMMANDS) with az; all run custom.run_engine_command."""

from azext_acr_ext._table import COMMANDS


def load_command_table(loader, _args):
    for command in COMMANDS:
        with loader.command_group(command.group) as group:
            group.custom_command(command.leaf, "run_engine_command", table_transformer=command.table)
