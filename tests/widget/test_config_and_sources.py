"""What the widget shows beside the replies: the public config and the sources' names."""

from __future__ import annotations

import re

import yaml

from api.conversations.schemas import Reply
from api.settings import DEV_PATIENT_KEY
from bot.content.clinic import DEFAULT_ANSWERS
from bot.content.sources import SOURCES_FILE
from bot.triage.rules import SOURCE_IDS

SOURCES = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))


# --- /widget/config.json --------------------------------------------------------------------


def test_the_config_gives_the_numbers_to_call_and_nothing_about_a_patient(client):
    response = client.get("/widget/config.json")  # no token: the numbers never depend on one
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # the number follows opening hours
    config = response.json()
    clinic = client.app.state.ctx.clinic
    assert config["clinic_name"] == clinic.clinic_name
    assert config["clinic_phone"] in {clinic.clinic_phone_day, clinic.clinic_phone_after_hours}
    assert config["emergency_number"] == clinic.emergency_number
    assert set(config) == {"clinic_name", "clinic_phone", "emergency_number", "emergency_terms"}


def test_the_emergency_terms_come_from_the_emergency_signs_only(client):
    terms = client.get("/widget/config.json").json()["emergency_terms"]
    rules = client.app.state.ctx.detector.rules
    assert "short of breath" in terms["phrases"] and "chest pain" in terms["phrases"]
    assert not set(terms["phrases"]) & set(rules.signs["fever"].phrases)  # a fever: the clinic
    assert not any("<n>" in p for p in terms["phrases"])  # the widget matches plain words
    breathe = [pair for pair in terms["pairs"] if "breathe" in pair[0]]
    assert breathe and "can not" in breathe[0][1]  # "I can't breathe" without a listed phrase
    # Fetched on every open: 17.4 kB with session 5's emergency wording (critically unwell, a
    # grey or bluish colour), which the offline fallback needs; the bound catches a runaway list.
    assert len(client.get("/widget/config.json").content) < 24_000


def test_the_portal_may_read_the_config_cross_origin(client, portal):
    allowed = client.get("/widget/config.json", headers={"Origin": portal}).headers
    other = client.get("/widget/config.json", headers={"Origin": "https://evil.example"}).headers
    assert allowed["access-control-allow-origin"] == portal
    assert "access-control-allow-origin" not in other


# --- sources ----------------------------------------------------------------------------------


def test_every_source_id_in_the_content_and_rules_has_a_name():
    answers = DEFAULT_ANSWERS.read_text(encoding="utf-8")
    used = set(re.findall(r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)?\b", " ".join(re.findall(r"sources: \[(.*?)\]", answers))))
    assert used, "no sources found in answers.yml"
    assert used | SOURCE_IDS <= set(SOURCES)


def test_source_addresses_are_https_or_left_empty():
    for source_id, source in SOURCES.items():
        assert source["name"] and source["name"] != source_id
        assert source["url"] is None or source["url"].startswith("https://"), source_id


def test_a_reply_carries_its_sources_as_names_and_links():
    reply = Reply(text="x", sources=["MEDLINEPLUS", "NOT-LISTED"])
    assert reply.sources == ["MEDLINEPLUS", "NOT-LISTED"]  # unchanged for existing clients
    medline, unknown = reply.source_links
    assert (medline.id, medline.name, medline.url) == (
        "MEDLINEPLUS",
        SOURCES["MEDLINEPLUS"]["name"],
        SOURCES["MEDLINEPLUS"]["url"],
    )
    assert (unknown.name, unknown.url) == ("NOT-LISTED", None)


def test_the_message_api_returns_the_source_links(client, hs256):
    bearer = {"Authorization": f"Bearer {hs256(DEV_PATIENT_KEY)}"}
    conversation = client.post("/api/v1/conversations", headers=bearer).json()["conversation_id"]
    body = client.post(
        f"/api/v1/conversations/{conversation}/messages", headers=bearer, json={"text": "my hip is bleeding"}
    ).json()  # the fail-safe call-provider reply, then the question how long it has bled
    triage, *follow_ups = body["replies"]
    assert triage["kind"] == "triage" and triage["sources"]
    for reply in [triage, *follow_ups]:
        assert [link["id"] for link in reply["source_links"]] == reply["sources"]
        assert all(link["name"] for link in reply["source_links"])
