"""The `az acr-ext` Azure CLI extension: a thin front end for the az-acr-ext engine binary."""

from azure.cli.core import AzCommandsLoader

from azext_acr_ext._help import helps  # noqa: F401  pylint: disable=unused-import


class AcrExtCommandsLoader(AzCommandsLoader):

    def __init__(self, cli_ctx=None):
        from azure.cli.core.commands import CliCommandType
        custom_command_type = CliCommandType(operations_tmpl="azext_acr_ext.custom#{}")
        super().__init__(cli_ctx=cli_ctx, custom_command_type=custom_command_type)

    def load_command_table(self, args):
        from azext_acr_ext.commands import load_command_table
        load_command_table(self, args)
        return self.command_table

    def load_arguments(self, command):
        from azext_acr_ext._params import load_arguments
        load_arguments(self, command)


COMMAND_LOADER_CLS = AcrExtCommandsLoader
