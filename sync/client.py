"""The Salesforce REST session: login, SOQL pages, sObject Collections writes, describe.

simple-salesforce does the HTTP (imported only when a sync runs: it pulls in zeep); every
failure that stops a run becomes one SalesforceError line naming the host. Per-record refusals
are not errors here: they come back as Results for the run to count. Answers are input (SPEC
20): a URL in one is followed only on the configured instance (sync.origin), a redirect never,
and a write answered with anything but one result per record sent stops the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import requests

from core.errors import SalesforceError
from core.salesforce_ids import is_id18
from core.settings import Settings
from poller.net.https import CaSession
from sync.origin import Origin
from sync.remote import kind_of, quoted

log = logging.getLogger(__name__)

MAX_RECORDS = 200  # sObject Collections take up to 200 records a request
TIMEOUT = (10, 120)  # connect, read (seconds): a large upsert can take a while
UNUSABLE = "unusable_answer"  # a result touchlog cannot read: the record may have been made


class SalesforceSession(CaSession):
    """The CA-trusting session (poller.net.https) that follows no redirect: the REST API
    redirects nowhere, so one would be a trap carrying the session token elsewhere."""

    def __init__(self, ca_file: str, host: str) -> None:
        super().__init__(ca_file, timeout=TIMEOUT)
        self.host = host

    def request(self, method: str, url: str,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        answer = super().request(method, url, *args, **kwargs)
        if answer.is_redirect:
            raise SalesforceError(f"salesforce {self.host}: answered HTTP {answer.status_code}, "
                                  f"a redirect to {quoted(answer.headers.get('location'), 200)}"
                                  "; not followed")
        return answer


@dataclass(frozen=True)
class Result:
    """One record's answer from sObject Collections."""

    id: str | None
    success: bool
    created: bool = False
    errors: tuple[tuple[str, str], ...] = ()  # (statusCode, message)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Result:
        listed = raw.get("errors")
        errors = tuple((str(e.get("statusCode", "")), str(e.get("message", "")))
                       for e in (listed if isinstance(listed, list) else ())
                       if isinstance(e, dict))
        sf_id, success = raw.get("id"), raw.get("success") is True
        if (isinstance(sf_id, str) and is_id18(sf_id)) or (sf_id is None and not success):
            return cls(sf_id, success, raw.get("created") is True, errors)
        return cls(None, False, False, ((UNUSABLE, f"Salesforce answered the Id "
                                         f"{quoted(sf_id)}, which is none"),))

    def code(self) -> str:
        return self.errors[0][0] if self.errors else ""

    def message(self) -> str:
        return "; ".join(f"{code}: {text}" for code, text in self.errors)


@dataclass
class Client:
    """One run's session with Salesforce; `requests` counts the HTTP requests made."""

    api: Any  # simple_salesforce.Salesforce
    session: CaSession
    host: str
    origin: Origin
    user_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return self.session.count

    def pages(self, soql: str, deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The records of a query, one page (up to 2,000) at a time, following
        nextRecordsUrl on the instance only: never the whole result in memory. A record may
        be anything (sync.remote checks it); a page that is no page stops the run."""
        with self._errors():
            page = self.api.query(soql, include_deleted=deleted)
        seen: set[str] = set()
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("records") or [], list):
                raise SalesforceError(f"salesforce {self.host}: a query answered "
                                      f"{kind_of(page)} without a list of records")
            yield list(page.get("records") or [])
            if page.get("done", True) is True or not page.get("nextRecordsUrl"):
                return
            path = self.origin.path_of(page["nextRecordsUrl"], "nextRecordsUrl")
            if path in seen:  # a cursor that goes round in circles would never end
                raise SalesforceError(f"salesforce {self.host}: nextRecordsUrl "
                                      f"{quoted(path, 200)} came twice; not followed")
            seen.add(path)
            with self._errors():
                page = self.api.query_more(path, identifier_is_url=True)

    def records(self, soql: str, deleted: bool = False) -> Iterator[dict[str, Any]]:
        for page in self.pages(soql, deleted):
            yield from page

    def upsert(self, sobject: str, external_id_field: str,
               records: list[dict[str, Any]]) -> list[Result]:
        """Create or update by the external id field: a record Salesforce already holds under
        that id is updated, never made twice."""
        body = {"allOrNone": False,
                "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        return self._write("PATCH", f"composite/sobjects/{sobject}/{external_id_field}", body)

    def update(self, sobject: str, records: list[dict[str, Any]]) -> list[Result]:
        """Update by Id (each record carries `id`)."""
        body = {"allOrNone": False,
                "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        return self._write("PATCH", "composite/sobjects", body)

    def delete(self, ids: list[str]) -> list[Result]:
        return self._write("DELETE", "composite/sobjects", None,
                           params={"ids": ",".join(ids), "allOrNone": "false"})

    def describe(self, sobject: str) -> dict[str, Any]:
        with self._errors():
            answer = self._rest("GET", f"sobjects/{sobject}/describe")
        return answer if isinstance(answer, dict) else {}

    def _write(self, method: str, path: str, body: dict[str, Any] | None,
               params: dict[str, str] | None = None) -> list[Result]:
        count = len(body["records"]) if body else len((params or {}).get("ids", "").split(","))
        if count > MAX_RECORDS:
            raise ValueError(f"{count} records in one request (at most {MAX_RECORDS})")
        with self._errors():
            answer = self._rest(method, path, params=params, json=body)
        if not (isinstance(answer, list) and len(answer) == count
                and all(isinstance(r, dict) for r in answer)):
            shown = f"a list of {len(answer)}" if isinstance(answer, list) else kind_of(answer)
            raise SalesforceError(f"salesforce {self.host}: {path} answered {shown}, not one "
                                  f"result per record sent ({count}); stopped (the next run "
                                  "finds what it wrote)")
        return [Result.of(r) for r in answer]

    def _rest(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call and its JSON, whatever JSON it is (simple-salesforce's `restful`
        assumes an object or a list); Salesforce's refusals raise as simple-salesforce's."""
        from simple_salesforce.util import exception_handler

        answer = self.session.request(method, self.api.base_url + path,
                                      headers=self.api.headers, **kwargs)
        if answer.status_code >= 300:
            exception_handler(answer, path)
        return answer.json() if answer.content else None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        with translated(self.host):
            yield


def connect(settings: Settings) -> Client:
    """A session from the access token, else the username-password-token login."""
    from simple_salesforce import Salesforce

    sf = settings.salesforce
    host = urlsplit(sf.instance_url).netloc
    origin = Origin.of(sf.instance_url)
    session = SalesforceSession(sf.ca_file, host)
    token = settings.salesforce_secret("access_token")
    with translated(host):
        if token:
            api = Salesforce(session_id=token, instance_url=origin.url,
                             version=sf.api_version, session=session)
            return Client(api, session, host, origin)
        token, server, user_id = _soap_login(session, settings)
        origin.path_of(server, "login()'s serverUrl")  # where the session would go next
        api = Salesforce(session_id=token, instance_url=origin.url, version=sf.api_version,
                         session=session)
        return Client(api, session, host, origin, user_id)


def _soap_login(session: CaSession, settings: Settings) -> tuple[str, str, str]:
    """The SOAP login() at the instance's own URL (My Domain), so it works for any org and for
    a test server; simple-salesforce's own login only knows *.salesforce.com hosts."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    from simple_salesforce.util import getUniqueElementValueFromXmlString as xml_value

    sf = settings.salesforce
    if not sf.username:
        raise SalesforceError("salesforce: set access_token_env (or access_token_file), or "
                              "username with password_env and security_token_env")
    secret = settings.salesforce_secret("password") + settings.salesforce_secret("security_token")
    body = ('<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:xsd='
            '"http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/'
            'XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f'<n1:username>{escape(sf.username)}</n1:username>'
            f'<n1:password>{escape(secret)}</n1:password></n1:login></env:Body></env:Envelope>')
    url = f"{sf.instance_url.rstrip('/')}/services/Soap/u/{sf.api_version}"
    answer = session.post(url, data=body.encode(), headers={
        "content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"})
    if answer.status_code != 200:
        code = xml_value(answer.content, "sf:exceptionCode") or str(answer.status_code)
        message = xml_value(answer.content, "sf:exceptionMessage") or answer.reason
        raise SalesforceAuthenticationFailed(code, message)
    token = xml_value(answer.content, "sessionId") or ""
    server_url = xml_value(answer.content, "serverUrl") or ""
    return token, server_url, xml_value(answer.content, "userId") or ""


@contextmanager
def translated(host: str) -> Iterator[None]:
    """Whatever stops a run, as one line naming the host."""
    from simple_salesforce import exceptions as sfe

    try:
        yield
    except sfe.SalesforceExpiredSession as exc:
        raise SalesforceError(f"salesforce {host}: the session was refused "
                              f"({_first_error(exc.content)}); renew the access token") from None
    except sfe.SalesforceAuthenticationFailed as exc:
        raise SalesforceError(f"salesforce {host}: login refused: {exc.code}: "
                              f"{exc.message}") from None
    except sfe.SalesforceError as exc:
        raise SalesforceError(f"salesforce {host}: {exc.resource_name or 'request'} refused "
                              f"(HTTP {exc.status}): {_first_error(exc.content)}") from None
    except requests.exceptions.SSLError as exc:
        raise SalesforceError(f"salesforce {host}: TLS failed: {_reason(exc)} (is "
                              "salesforce.ca_file right?)") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SalesforceError(f"salesforce {host}: connection lost or refused: "
                              f"{_reason(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise SalesforceError(f"salesforce {host}: {_reason(exc)}") from None
    except RecursionError:  # JSON nested deeper than the parser goes: no answer Salesforce gives
        raise SalesforceError(f"salesforce {host}: an answer nested too deep to read") from None


def _first_error(content: Any) -> str:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode', '')}: {content[0].get('message', '')}"
    return " ".join(str(content).split())[:300]


def _reason(exc: Exception) -> str:
    """The innermost reason urllib3 gives, without its object reprs."""
    text = str(exc.args[0] if exc.args else exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return " ".join(text.strip("()'\" ").split())[:200]
