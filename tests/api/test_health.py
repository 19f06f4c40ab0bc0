from tests.conftest import make_client


def test_healthz_is_always_ok(settings):
    with make_client(settings, None) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_503_without_a_model(settings):
    with make_client(settings, None) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"model": False, "database": True, "accepting": True}


def test_readyz_is_200_with_model_and_database(client):
    assert client.get("/readyz").status_code == 200


def test_openapi_documents_the_patient_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/webhooks/rest/webhook",
    } <= set(paths)


def test_readyz_turns_503_while_draining(client):
    client.app.state.ctx.draining = True  # what SIGTERM sets (see api/cli.py DrainingServer)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["accepting"] is False


def test_readyz_checks_redis_when_configured(make_settings, assistant):
    with make_client(make_settings(redis_url="redis://127.0.0.1:1/0"), assistant) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] is False
