"""docker-compose.yml describes the same stack and settings as the code."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_app_services_set_exactly_the_variables_the_settings_read():
    services = compose()["services"]
    read = {f"ASSUREHUB_{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "api", "relay", "projector", "processor"):
        assert set(services[name]["environment"]) == read, name


def test_stack_has_every_component_with_a_healthcheck():
    services = compose()["services"]
    for name, service in services.items():
        if name != "migrate":  # a one-shot job
            assert "healthcheck" in service, name
    assert (
        services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    )
    assert services["api"]["command"] == ["api"]
    assert services["relay"]["command"] == ["relay"]
    assert services["projector"]["command"] == ["projectors"]
    assert services["processor"]["command"] == ["processors"]


def test_no_secret_is_written_in_the_file():
    text = COMPOSE.read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    env = compose()["services"]["postgres"]["environment"]
    assert env["POSTGRES_PASSWORD"].startswith("${")
