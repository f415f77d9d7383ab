"""A small local Salesforce for the sync's tests: HTTPS on 127.0.0.1 with a throwaway CA.

Only the calls touchlog makes, behaving as Salesforce documents them:
- every REST call needs `Authorization: Bearer <token>`; an unknown or expired one is
  401 `[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]`;
- the SOAP `login()` call (username, password + security token) at /services/Soap/u/VER,
  answering a sessionId and serverUrl, or a fault with INVALID_LOGIN (HTTP 500);
- GET `query` and `queryAll` with SOQL (tests/fake_soql.py), pages of `page_size` records
  (Salesforce: 2,000) linked by `nextRecordsUrl`; deleted records (IsDeleted) only from queryAll;
- GET `sobjects/OBJ/describe` (fields with name, type, length, externalId, updateable);
- sObject Collections: POST `composite/sobjects` (create: a result without `created`; a record
  carrying an Id is refused), PATCH `composite/sobjects/OBJ/FIELD` (upsert on an external id
  field, `created` true or false), PATCH `composite/sobjects` (update by id), DELETE
  `composite/sobjects?ids=` (up to 200 records a request, else EXCEEDED_ID_LIMIT), each
  answering one result per record in order, with `allOrNone = false` semantics;
- the records themselves as tests/fake_sobjects.py describes.

Where it differs from Salesforce (on purpose, to stay small):
- one org, a few objects (Account, Contact, User, Event, Task) and only their common fields;
  no sharing rules, field-level security, triggers, validation rules or recurring events;
- Ids are looked up exactly as sent (Salesforce also takes 15-character Ids);
- Task.Priority and Task.Status are restricted picklists with the default values (in Salesforce
  an admin chooses whether they are restricted);
- query cursors never expire (Salesforce drops one after 15 minutes unused) and are snapshots
  taken at the first page; SOQL is the subset fake_soql.py names; no API limits, no gzip;
- `allOrNone = true` is not implemented (touchlog always sends false);
- an all-day Event reads back with ActivityDateTime null, as the Event reference describes the
  field (a real org may hold its midnight there: touchlog reads either as that day at 00:00 UTC),
  and an update keeps it all-day whatever ActivityDateTime it sends;
- two calls that are not Salesforce's, for tests and the benchmark: GET /_fake/stats (request
  counts) and the Python methods below (insert/update/delete as a Salesforce user, tokens);
- the external id field is an External ID without "Unique" (as the README has it made): two
  records may hold the same value, and an upsert matching both is refused; with "Unique"
  ticked, Salesforce would refuse the second record's create with DUPLICATE_VALUE instead;
- answers no Salesforce gives, for the tests of SPEC 20 ("Salesforce is input too"), each off
  unless a test sets it: `tampered` (a record in query answers with a field of the wrong type
  or shape, missing, or not an object at all: Salesforce always returns every field asked for,
  typed as its describe says), `next_url` (a nextRecordsUrl elsewhere: Salesforce's is always
  a path on the instance, /services/data/vNN.N/query/<locator>), `redirect_to` (an HTTP
  redirect: the REST API answers none) and `server_url` (login()'s serverUrl on another host:
  with My Domain it is the instance's own). A second fake made with `ca=` of the first shares
  its CA, so a client trusting one trusts both: a request sent to the wrong one is received,
  and seen in its `requests`;
- `before_write` (as a write request arrives: nothing is written) and `after_write` (once the
  write is done, before its answer goes out) run a test's code there: the tests kill the
  syncing process with SIGKILL at those moments.
"""

from __future__ import annotations

import itertools
import json
import re
import ssl
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, unescape

from tests.fake_sobjects import RELATIONSHIPS, RecordError, Store, to_json
from tests.fake_soql import SoqlError, matches, ordered, parse

MAX_RECORDS = 200


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()  # in `tampered`: the field is left out of the answer


class ApiError(Exception):
    """A whole request refused: HTTP status and Salesforce's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, [{"message": message, "errorCode": code}]


class Redirect(Exception):
    """Answer 307 Temporary Redirect to `location` (a test hook: the REST API answers none)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class FakeSalesforce:
    def __init__(self, external_id_field: str = "Touchlog_Id__c", page_size: int = 2000,
                 api_version: str = "62.0", ca: Any = None) -> None:
        self.store = Store(external_id_field, self.now)
        self.external_id_field = external_id_field
        self.page_size = page_size
        self.api_version = api_version
        self.frozen: datetime | None = None  # tests may stop the clock
        self.tokens: dict[str, str] = {}  # token -> User Id
        self.logins: dict[str, tuple[str, str]] = {}  # username -> (password+token, User Id)
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self.soql: list[tuple[str, str]] = []  # (query | queryAll, statement)
        self.stats: Counter[str] = Counter()
        self.drop_after_write = 0  # answer nothing to this many writes (a lost connection)
        self.expire_after: int | None = None  # tokens expire after this many more API calls
        # Answers no Salesforce gives (see the module's docstring), off until a test sets them.
        self.tampered: dict[str, Any] = {}  # Id -> {field: value or DROP}, or a whole non-object
        self.next_url: Callable[[str], str] | None = None  # rewrites each nextRecordsUrl
        self.redirect_to = ""  # the next API call is answered 307 to this URL
        self.server_url = ""  # login()'s serverUrl, when not this server's own
        self.before_write: Callable[[], None] | None = None  # as a write request arrives
        self.after_write: Callable[[], None] | None = None  # once written, before the answer
        self.ca = ca  # a trustme.CA to share (None: a throwaway one of its own)
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self.integration_user = self.add_user("integration@ourco.com", "Integration User")
        self.token = self.issue_token(self.integration_user)
        self._server: ThreadingHTTPServer | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="touchlog-fake-sf-"))

    # --- clock, users, tokens ------------------------------------------------------------------

    def now(self) -> datetime:
        if self.frozen is not None:
            return self.frozen
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def add_user(self, email: str, name: str = "", active: bool = True) -> str:
        row = self.store.insert("User", {"Email": email, "Name": name or email, "IsActive": active},
                                user="", now=self.now())
        return str(row["Id"])

    def issue_token(self, user_id: str) -> str:
        token = f"00DDk0000000001!AQ{next(self._serial):04d}.fake"
        self.tokens[token] = user_id
        return token

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def add_login(self, username: str, password: str, security_token: str, user_id: str) -> None:
        self.logins[username] = (password + security_token, user_id)

    # --- records as a Salesforce user changes them ------------------------------------------

    def add_account(self, name: str) -> str:
        return str(self.store.insert("Account", {"Name": name}, self.integration_user)["Id"])

    def add_contact(self, email: str, account_id: str) -> str:
        values = {"Email": email, "LastName": email.split("@")[0], "AccountId": account_id}
        return str(self.store.insert("Contact", values, self.integration_user)["Id"])

    def insert(self, sobject: str, values: dict[str, Any], by: str | None = None) -> str:
        with self._lock:
            return str(self.store.insert(sobject, values, by or self.integration_user)["Id"])

    def update(self, sobject: str, record_id: str, values: dict[str, Any],
               by: str | None = None) -> None:
        with self._lock:
            self.store.update(sobject, record_id, values, by or self.integration_user)

    def delete(self, record_id: str, by: str | None = None) -> None:
        with self._lock:
            self.store.delete(record_id, by or self.integration_user)

    def records(self, sobject: str, deleted: bool = False) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.rows[sobject].values() if deleted or not r["IsDeleted"]]

    # --- serving ------------------------------------------------------------------------------

    def start(self) -> FakeSalesforce:
        import trustme

        ca = self.ca = self.ca or trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = str(self._folder / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the API ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               body: Any, auth: str) -> tuple[int, Any]:
        self.requests.append((method, path))
        self.stats["requests"] += 1
        if path.startswith("/services/Soap/u/"):
            return self._soap_login(body)
        if path == "/_fake/stats":
            return 200, dict(self.stats)
        if self.redirect_to:
            target, self.redirect_to = self.redirect_to, ""
            raise Redirect(target)
        if self.expire_after is not None:
            if self.expire_after <= 0:
                self.expire_tokens()
                self.expire_after = None
            else:
                self.expire_after -= 1
        if self.tokens.get(auth.removeprefix("Bearer ")) is None:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        user = self.tokens[auth.removeprefix("Bearer ")]
        prefix = f"/services/data/v{self.api_version}/"
        if not path.startswith(prefix):
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return self._route(method, path[len(prefix):].rstrip("/"), query, body, user)

    def _route(self, method: str, rest: str, query: dict[str, list[str]], body: Any,
               user: str) -> tuple[int, Any]:
        with self._lock:
            if method == "GET" and rest in ("query", "queryAll"):
                return 200, self._query(rest, query.get("q", [""])[0])
            if method == "GET" and re.fullmatch(r"(query|queryAll)/[\w-]+", rest):
                return 200, self._page(rest.split("/", 1)[1])
            m = re.fullmatch(r"sobjects/(\w+)/describe", rest)
            if method == "GET" and m:
                return 200, self._describe(m.group(1))
            m = re.fullmatch(r"composite/sobjects/(\w+)/(\w+)", rest)
            if method == "PATCH" and m:
                return 200, self._write(body, lambda r: self._upsert(m[1], m[2], r, user))
            if method == "PATCH" and rest == "composite/sobjects":
                return 200, self._write(body, lambda r: self._update(r, user))
            if method == "POST" and rest == "composite/sobjects":
                return 200, self._write(body, lambda r: self._create(r, user))
            if method == "DELETE" and rest == "composite/sobjects":
                return 200, self._delete_ids(query.get("ids", [""])[0].split(","), user)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _soap_login(self, body: Any) -> tuple[int, Any]:
        text = body if isinstance(body, str) else ""
        username = _xml_value(text, "username")
        known = self.logins.get(username)
        if known is None or _xml_value(text, "password") != known[0]:
            return 500, _soap_fault("INVALID_LOGIN", "INVALID_LOGIN: Invalid username, "
                                    "password, security token; or user locked out.")
        token = self.issue_token(known[1])
        server = f"{self.server_url or self.url}/services/Soap/u/{self.api_version}/00DDk0000000001"
        return 200, _soap_result(server, token, known[1])

    def _query(self, endpoint: str, statement: str) -> dict[str, Any]:
        self.soql.append((endpoint, statement))
        self.stats[endpoint] += 1
        try:
            q = parse(statement)
            rows = self._select(q, endpoint == "queryAll")
        except SoqlError as exc:
            raise ApiError(400, "MALFORMED_QUERY", str(exc)) from None
        cursor = f"01gDk{next(self._serial):013d}"
        self.cursors[cursor] = [self._shape(q.fields, q.sobject, r) for r in rows]
        return self._page(f"{cursor}-0", endpoint)

    def _select(self, q: Any, include_deleted: bool) -> list[dict[str, Any]]:
        fields = self.store.fields.get(q.sobject)
        if fields is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{q.sobject}' is not supported.")
        for name in q.fields:
            self._get({}, name, q.sobject, check=True)
        rows = [r for r in self.store.rows[q.sobject].values()
                if (include_deleted or not r["IsDeleted"])
                and matches(q.where, r, lambda rec, n: self._get(rec, n, q.sobject))]
        rows = ordered(rows, q.order, lambda rec, n: self._get(rec, n, q.sobject))
        return rows[:q.limit] if q.limit is not None else rows

    def _page(self, locator: str, endpoint: str = "query") -> dict[str, Any]:
        cursor, _, start_text = locator.rpartition("-")
        rows = self.cursors.get(cursor)
        if rows is None or not start_text.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        start = int(start_text)
        end = start + self.page_size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows),
                                "records": rows[start:end]}
        if end < len(rows):
            url = f"/services/data/v{self.api_version}/{endpoint}/{cursor}-{end}"
            page["nextRecordsUrl"] = self.next_url(url) if self.next_url else url
        return page

    def _get(self, row: dict[str, Any], name: str, sobject: str, check: bool = False) -> Any:
        """A field or a relationship's field (CreatedBy.Email), INVALID_FIELD when unknown."""
        if "." in name:
            relation, _, inner = name.partition(".")
            key = RELATIONSHIPS.get(relation)
            if key is None or key not in self.store.fields[sobject]:
                raise ApiError(400, "INVALID_FIELD", f"Didn't understand relationship "
                               f"'{relation}' in field path. No such column on entity "
                               f"'{sobject}'")
            if check:
                return None
            target = self.store.find(row.get(key) or "")
            return None if target is None else target[1].get(inner)
        if name not in self.store.fields[sobject]:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity "
                           f"'{sobject}'.")
        return None if check else row.get(name)

    def _shape(self, fields: list[str], sobject: str, row: dict[str, Any]) -> Any:
        shaped = self._shaped(fields, sobject, row)
        tampered = self.tampered.get(row["Id"], {})
        if not isinstance(tampered, dict):
            return tampered
        for name, value in tampered.items():
            if value is DROP:
                shaped.pop(name, None)
            else:
                shaped[name] = value
        return shaped

    def _shaped(self, fields: list[str], sobject: str, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self._attributes(sobject, row["Id"])}
        for name in fields:
            if "." not in name:
                out[name] = to_json(row.get(name))
                continue
            relation, _, inner = name.partition(".")
            target = self.store.find(row.get(RELATIONSHIPS[relation]) or "")
            if target is None:
                out[relation] = None
            else:
                nested = out.setdefault(relation, {"attributes": self._attributes(*target[:1],
                                                                                  target[1]["Id"])})
                nested[inner] = to_json(target[1].get(inner))
        return out

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject,
                "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record_id}"}

    def _describe(self, sobject: str) -> dict[str, Any]:
        fields = self.store.fields.get(sobject)
        if fields is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return {"name": sobject, "queryable": True, "createable": True, "updateable": True,
                "fields": [{"name": f.name, "type": f.type, "length": f.length,
                            "externalId": f.external_id, "createable": f.createable,
                            "updateable": f.updateable} for f in fields.values()]}

    def _write(self, body: Any, one: Any) -> list[dict[str, Any]]:
        records = (body or {}).get("records") or []
        if len(records) > MAX_RECORDS:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit "
                           f"more than {MAX_RECORDS} records into this call")
        self.stats["records_written"] += len(records)
        now, frozen = self.now(), self.frozen
        self.frozen = now  # one transaction, one timestamp
        try:
            return [self._result(one, dict(r)) for r in records]
        finally:
            self.frozen = frozen

    def _result(self, one: Any, record: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"success": True, "errors": [], **one(record)}
        except RecordError as exc:
            return {"id": record.get("id") or record.get("Id"), "success": False,
                    "errors": [exc.as_json()]}

    def _upsert(self, sobject: str, field: str, record: dict[str, Any],
                user: str) -> dict[str, Any]:
        spec = self.store.fields.get(sobject, {}).get(field)
        if spec is None or not spec.external_id:
            raise ApiError(400, "INVALID_FIELD", f"Field {field} is not an external id field")
        _type_of(record, sobject)
        key = str(record.get(field) or "")
        if not key:
            raise RecordError("MISSING_ARGUMENT", f"{field} not specified")
        hits = self.store.matching(sobject, key)
        if len(hits) > 1:
            raise RecordError("DUPLICATE_EXTERNAL_ID", f"{field}: more than one record found "
                              f"for external id field: {[h['Id'] for h in hits]}")
        if hits:
            self.store.update(sobject, hits[0]["Id"], record, user)
            return {"id": hits[0]["Id"], "created": False}
        return {"id": self.store.insert(sobject, record, user)["Id"], "created": True}

    def _create(self, record: dict[str, Any], user: str) -> dict[str, Any]:
        """sObject Collections create: the result has no `created` (every success is one)."""
        sobject = str((record.get("attributes") or {}).get("type") or "")
        if sobject not in self.store.fields:
            raise RecordError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        _type_of(record, sobject)
        if record.get("id") or record.get("Id"):
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call")
        return {"id": self.store.insert(sobject, record, user)["Id"]}

    def _update(self, record: dict[str, Any], user: str) -> dict[str, Any]:
        record_id = str(record.pop("id", "") or record.pop("Id", "") or "")
        found = self.store.find(record_id)
        if found is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        _type_of(record, found[0])
        self.store.update(found[0], record_id, record, user)
        return {"id": record_id}

    def _delete_ids(self, ids: list[str], user: str) -> list[dict[str, Any]]:
        ids = [i for i in ids if i]
        if len(ids) > MAX_RECORDS:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit "
                           f"more than {MAX_RECORDS} records into this call")
        results = []
        for record_id in ids:
            try:
                self.store.delete(record_id, user)
                results.append({"id": record_id, "success": True, "errors": []})
            except RecordError as exc:
                results.append({"id": record_id, "success": False, "errors": [exc.as_json()]})
        return results


def _type_of(record: dict[str, Any], sobject: str) -> None:
    given = (record.pop("attributes", None) or {}).get("type")
    if given != sobject:
        raise RecordError("INVALID_TYPE", f"attributes.type must be {sobject}, not {given}")


def _xml_value(text: str, tag: str) -> str:
    m = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", text, re.S)
    return unescape(m.group(1)) if m else ""


def _soap_result(server_url: str, session_id: str, user_id: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
            '"http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            f'<soapenv:Body><loginResponse><result><serverUrl>{escape(server_url)}</serverUrl>'
            f'<sessionId>{escape(session_id)}</sessionId><userId>{user_id}</userId>'
            '</result></loginResponse></soapenv:Body></soapenv:Envelope>')


def _soap_fault(code: str, message: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
            '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf='
            '"urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
            f'<faultcode>sf:{code}</faultcode><faultstring>{escape(message)}</faultstring>'
            f'<detail><sf:LoginFault><sf:exceptionCode>{code}</sf:exceptionCode>'
            f'<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault>'
            '</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>')


def _handler(fake: FakeSalesforce) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            is_json = "json" in (self.headers.get("Content-Type") or "")
            wrote = self.command in ("POST", "PATCH", "DELETE") and "/composite/" in url.path
            if wrote and fake.before_write is not None:
                fake.before_write()
                self.close_connection = True  # the client is gone; nothing was written
                return
            try:
                body = json.loads(raw) if raw and is_json else raw
                status, answer = fake.handle(self.command, url.path, parse_qs(url.query), body,
                                             self.headers.get("Authorization") or "")
            except ApiError as exc:
                status, answer = exc.status, exc.body
            except json.JSONDecodeError as exc:
                status, answer = 400, [{"errorCode": "JSON_PARSER_ERROR", "message": str(exc)}]
            except Redirect as exc:
                self._redirect(exc.location)
                return
            if wrote and status == 200 and fake.after_write is not None:
                fake.after_write()
                self.close_connection = True  # the client is gone; the write stays
                return
            if wrote and fake.drop_after_write > 0 and status == 200:
                fake.drop_after_write -= 1
                self.close_connection = True  # the write happened; its answer is lost
                return
            data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(status)
            kind = "text/xml" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", f"{kind}; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

    return Handler
