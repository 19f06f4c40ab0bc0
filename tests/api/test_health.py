from tests.conftest import make_client


def test_healthz_is_always_ok(settings):
    with make_client(settings, None) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_503_without_a_model(settings):
    with make_client(settings, None) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"model": False, "database": True}


def test_readyz_is_200_with_model_and_database(client):
    assert client.get("/readyz").status_code == 200


def test_openapi_documents_the_patient_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/conversations", "/api/v1/conversations/{conversation_id}/messages",
            "/webhooks/rest/webhook"} <= set(paths)
