"""The signed-in people schemathesis acts as, against a fresh `parta demo`.

The demo's director (`sergeev.vr`) signs in to the portal and, through the
«Чаты» window, to the messenger: a phone proven by an SMS code from the
demo's outbox, a linked learning profile, a one-time messenger token. Run as
a script, it also makes things to act on (a chat of the director's own, a
few messages, a photo) and prints the TOML dictionaries that point
schemathesis's path parameters at them, so that authorised requests reach
real rows and not only 404s.
"""

from __future__ import annotations

import os
import re
import secrets
import struct
import sys
import time
import zlib

import requests

BASE = os.environ.get("PARTA_URL", "http://127.0.0.1:8080").rstrip("/")
LOGIN = "sergeev.vr"
PASSWORD = "parta2026"
ORG = 1
TIMEOUT = 30


class FixtureError(RuntimeError):
    pass


def _check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 300:
        raise FixtureError(f"{what}: {response.status_code} {response.text[:300]}")
    return response


def portal() -> requests.Session:
    """A portal session of the director, with the chats module switched on
    (a fuzzed request may have switched it off)."""
    s = requests.Session()
    _check(s.post(f"{BASE}/api/session", json={"login": LOGIN, "password": PASSWORD}, timeout=TIMEOUT), "sign-in")
    _check(s.put(f"{BASE}/api/orgs/{ORG}/modules/chats", json={"enabled": True}, timeout=TIMEOUT), "chats module")
    return s


def _link(s: requests.Session, suggested: dict) -> None:
    # A new number each time: a number gets a few codes an hour. (Not from
    # `random`, which hypothesis seeds the same way in every test case.)
    phone = f"+7912{secrets.randbelow(10**7):07}"
    _check(s.post(f"{BASE}/api/identity/codes", json={"phone": phone}, timeout=TIMEOUT), "SMS code")
    outbox = _check(s.get(f"{BASE}/api/dev/sms-outbox", timeout=TIMEOUT), "SMS outbox").json()
    texts = [m["text"] for m in outbox if m["phone"] == phone]
    code = re.search(r"\d{6}", texts[-1]) if texts else None
    if code is None:
        raise FixtureError(f"no code for {phone} in the outbox")
    proof = _check(
        s.post(f"{BASE}/api/identity/proofs", json={"phone": phone, "code": code.group()}, timeout=TIMEOUT), "proof"
    ).json()["proof"]
    _check(s.post(f"{BASE}/api/chats/{ORG}/link", json={"proof": proof, **suggested}, timeout=TIMEOUT), "link")


def messenger(s: requests.Session) -> requests.Session:
    """A messenger session of the director, linking the profile first if a
    fuzzed request unlinked it or deleted the Parta ID."""
    window = _check(s.get(f"{BASE}/api/chats/{ORG}", timeout=TIMEOUT), "chats window").json()
    if window["linked"] is None:
        _link(s, window["suggested"])
    url = _check(s.post(f"{BASE}/api/chats/{ORG}/messenger-token", timeout=TIMEOUT), "messenger token").json()["url"]
    m = requests.Session()
    token = url.split("#token=", 1)[1]
    _check(m.post(f"{BASE}/api/messenger/session", json={"token": token}, timeout=TIMEOUT), "messenger sign-in")
    return m


def cookies() -> dict[str, str]:
    """Both cookies, for every request schemathesis makes."""
    s = portal()
    jar = {"parta_session": s.cookies["parta_session"]}
    try:
        jar["parta_messenger"] = messenger(s).cookies["parta_messenger"]
    except FixtureError as e:
        # The messenger's routes then answer 401, which they document.
        print(f"contract fixture: no messenger session: {e}", file=sys.stderr)
    return jar


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\xff\x80\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\0taken at school")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def rows_to_act_on() -> dict[str, list]:
    """Makes a chat, messages and a photo; returns the ids per path parameter."""
    s = portal()
    m = messenger(s)
    people = _check(s.get(f"{BASE}/api/orgs/{ORG}/people?limit=30", timeout=TIMEOUT), "people").json()
    others = [p["id"] for p in people if p["login"] != LOGIN][:10]
    chat = _check(
        s.post(f"{BASE}/api/orgs/{ORG}/chats", json={"name": "Олимпиада", "members": others[:5]}, timeout=TIMEOUT),
        "custom chat",
    ).json()["id"]
    chats = [c["id"] for c in _check(m.get(f"{BASE}/api/messenger/chats", timeout=TIMEOUT), "chats").json()]
    photo = _check(
        m.post(
            f"{BASE}/api/messenger/chats/{chat}/files?name=photo.png",
            data=_png(),
            headers={"content-type": "application/octet-stream"},
            timeout=TIMEOUT,
        ),
        "upload",
    ).json()["id"]
    messages = []
    for i, text in enumerate(["Завтра олимпиада по математике", "Сбор в 8:30 у входа", "Фото с прошлого года"]):
        body = {"client_id": f"00000000-0000-4000-8000-00000000000{i}", "text": text}
        if i == 2:
            body["attachments"] = [photo]
        ack = _check(m.post(f"{BASE}/api/messenger/chats/{chat}/messages", json=body, timeout=TIMEOUT), "send")
        messages.append(ack.json()["message_id"])
    parents, form = _consent_form(s, m)
    messages.append(form)
    # Messages scheduled a month ahead, to edit and cancel.
    later = int(time.time()) + 30 * 24 * 3600
    scheduled = []
    for i in range(2):
        body = {"client_id": f"00000000-0000-4000-8000-10000000000{i}", "text": f"Напоминание {i}", "send_at": later}
        url = f"{BASE}/api/messenger/chats/{chat}/scheduled"
        scheduled.append(_check(m.post(url, json=body, timeout=TIMEOUT), "scheduled message").json()["id"])
    classes = [c["id"] for c in _check(s.get(f"{BASE}/api/orgs/{ORG}/classes", timeout=TIMEOUT), "classes").json()]
    detail = _check(s.get(f"{BASE}/api/orgs/{ORG}/classes/{classes[0]}", timeout=TIMEOUT), "class").json()
    sessions = [x["id"] for x in _check(m.get(f"{BASE}/api/messenger/sessions", timeout=TIMEOUT), "sessions").json()]
    subjects = [x["id"] for x in _check(s.get(f"{BASE}/api/orgs/{ORG}/subjects", timeout=TIMEOUT), "subjects").json()]
    # A copy of the director's own data and one of a student's: both kinds of export ids.
    own = _check(m.post(f"{BASE}/api/messenger/exports", timeout=TIMEOUT), "own copy").json()["id"]
    student = detail["students"][0]["id"]
    ground = {"reason": "Проверка контракта"}
    url = f"{BASE}/api/orgs/{ORG}/people/{student}/exports"
    theirs = _check(s.post(url, json=ground, timeout=TIMEOUT), "a student's copy").json()["id"]
    return {
        "org": [ORG],
        "chat": sorted({chat, parents, *chats}),
        "message": messages,
        "file": [photo],
        "person": others + [st["id"] for st in detail["students"][:5]],
        "class": classes[:5],
        "subject": subjects[:5],
        "section": [sec["id"] for sec in detail["sections"][:5]],
        "session": sessions,
        "export": [own, theirs],
        "scheduled": scheduled,
    }


def _consent_form(s: requests.Session, m: requests.Session) -> tuple[int, int]:
    """The director, made an admin of a parents' chat, asks for consent there:
    the chat and the form's message."""
    me = _check(s.get(f"{BASE}/api/me", timeout=TIMEOUT), "me").json()["person"]["id"]
    url = f"{BASE}/api/orgs/{ORG}/chats?kind=parents"
    parents = _check(s.get(url, timeout=TIMEOUT), "parents' chats").json()[0]["id"]
    chat = f"{BASE}/api/orgs/{ORG}/chats/{parents}"
    _check(s.post(f"{chat}/members", json={"people": [me]}, timeout=TIMEOUT), "join the parents' chat")
    _check(s.put(f"{chat}/admins/{me}", timeout=TIMEOUT), "admin of the parents' chat")
    body = {
        "client_id": "00000000-0000-4000-8000-0000000000c0",
        "title": "Экскурсия в музей",
        "text": "Разрешаете ли вы ребёнку поехать?",
        "deadline": int(time.time()) + 7 * 24 * 3600,
    }
    url = f"{BASE}/api/messenger/chats/{parents}/consent-forms"
    return parents, _check(m.post(url, json=body, timeout=TIMEOUT), "consent form").json()["message_id"]


def dictionaries_toml(ids: dict[str, list]) -> str:
    """Each path parameter takes a real id most of the time, anything else otherwise."""
    out = []
    for name, values in ids.items():
        if values:
            out.append(f"[dictionaries.{name}]\nvalues = {values!r}\n")
            out.append(f'[parameters."path.{name}"]\ndictionary = "{name}"\nprobability = 0.8\n')
    return "\n".join(out)


if __name__ == "__main__":
    print(dictionaries_toml(rows_to_act_on()))
