"""`az acr-ext connected-registry config-view` through the real az."""

from conftest import FIXTURES

SERVICE_IP = "192.100.100.1"
TUTORIAL_BROKEN = FIXTURES / "golden" / "protected-tutorial-broken.json"
PROTECTED_BYOC = FIXTURES / "golden" / "protected-byoc.json"


def test_config_view_fills_in_the_defaults(az):
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "-o", "json").json()
    assert result["settings"]["service.clusterIP"] == SERVICE_IP
    assert result["settings"]["pvc.storageRequest"] == "500Gi"
    assert result["settings"]["cert-manager.install"] is True
    assert "pvc.storageRequest" in result["defaults"]
    assert "service.clusterIP" not in result["defaults"]
    assert result["tlsSource"]["kind"] == "cert-manager-install"


def test_config_takes_space_separated_and_repeated_settings(az):
    result = az("acr-ext", "connected-registry", "config-view",
                "--config", "service.clusterIP=" + SERVICE_IP, "cert-manager.install=false",
                "--config", "trustDistribution.enabled=false", "pvc.storageRequest=100Gi").json()
    assert result["settings"]["cert-manager.install"] is False
    assert result["settings"]["trustDistribution.enabled"] is False
    assert result["settings"]["pvc.storageRequest"] == "100Gi"
    assert result["tlsSource"]["kind"] != "cert-manager-install"


def test_config_view_query_and_table(az):
    kind = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
              "--query", "tlsSource.kind", "-o", "tsv")
    assert kind.stdout == "cert-manager-install\n"
    table = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
               "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Setting", "Value", "Source"]
    assert table[2].split() == ["service.clusterIP", SERVICE_IP, "given"]
    assert ["pvc.storageRequest", "500Gi", "default"] in [line.split() for line in table]


def test_protected_settings_are_summarised_and_secrets_redacted(az):
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "--config", "cert-manager.enabled=false", "cert-manager.install=false",
                "--config-protected-file", PROTECTED_BYOC)
    view = result.json()
    assert view["tlsSource"]["kind"] == "bring-your-own-certificate"
    assert view["protected"]["tls.key"] == "<redacted>"
    assert view["protected"]["connectionString"]["auth"]["password"] == "<redacted>"
    assert "Zm9vYmFyYmF6cXV4" not in result.stdout


def test_the_tutorials_broken_protected_settings_are_refused_with_line_and_column(az):
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "--config-protected-file", TUTORIAL_BROKEN, expect=1)
    assert result.stdout == ""
    assert ("ERROR: {}: invalid JSON at line 3, column 12: expected value".format(TUTORIAL_BROKEN)
            in result.stderr.splitlines())
    assert "a `$` on that line looks like a shell variable that was not expanded" in result.stderr


def test_a_trailing_comma_is_refused_with_line_and_column(az):
    (az.cwd / "protected.json").write_text('{\n  "tls.secret": "registry-tls",\n}\n')
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "--config-protected-file", "protected.json", expect=1)
    assert "ERROR: protected.json: invalid JSON at line 3, column 1: trailing comma" in result.stderr


def test_an_unknown_setting_gets_a_suggestion(az):
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIp=" + SERVICE_IP,
                expect=1)
    assert "ERROR: unknown setting `service.clusterIp`; did you mean service.clusterIP?" in result.stderr


def test_protected_values_from_the_command_line_are_not_logged(az):
    secret = "S3cretTokenPassw0rd"
    connection = ("ConnectedRegistryName=contosoedge;SyncTokenName=contosoedge-sync-token;SyncTokenPassword={};"
                  "ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https").format(secret)
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "--config-protected", "connectionString=" + connection, "--debug")
    assert secret not in result.stdout
    (running,) = [line for line in result.stderr.splitlines() if "azext_acr_ext._engine: running " in line]
    assert running.endswith("--config-protected=connectionString=<redacted>")
    assert secret not in running
    assert result.json()["protected"]["connectionString"]["auth"]["password"] == "<redacted>"


def test_a_connection_string_given_with_config_is_accepted_and_not_logged(az):
    secret = "S3cretTokenPassw0rd"
    connection = ("ConnectedRegistryName=contosoedge;SyncTokenName=contosoedge-sync-token;SyncTokenPassword={};"
                  "ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https").format(secret)
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "connectionString=" + connection, "--debug")
    assert secret not in result.stdout
    (running,) = [line for line in result.stderr.splitlines() if "azext_acr_ext._engine: running " in line]
    assert running.endswith("--config=connectionString=<redacted>")
    assert secret not in running
    assert result.json()["protected"]["connectionString"]["connectedRegistryName"] == "contosoedge"


def test_the_arc_extension_settings_and_container_profile_are_accepted(az):
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=" + SERVICE_IP,
                "registryLoginServer=registry.contoso.local", "httpEnabled=true", "service.type=NodePort",
                "container.runAsUser=0", "-o", "json").json()
    settings = result["settings"]
    assert settings["registryLoginServer"] == "registry.contoso.local"
    assert settings["httpEnabled"] is True
    assert settings["service.type"] == "NodePort"
    assert settings["trustDistribution.useNodeSelector"] is False
    assert settings["container"]["runAsUser"] == 0
    assert settings["container"]["image"] == "mcr.microsoft.com/acr/connected-registry:0.9.0"
    assert "container.httpsPort" in result["defaults"]
