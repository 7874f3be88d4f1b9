"""A small local HTTP server that answers like CE Broker's roster web service (UploadXMLString).

It reads the `InXML` form field, keeps every message, records each attendee it accepts, and
answers a return receipt wrapped in `<string xmlns="https://webservices.cebroker.com/">`. A
license starting with "REJ" is refused with CE Broker's "Invalid license Number" (code 80); an
attendee it has recorded already (same course, license, state and date) is refused as a
duplicate (its wording and code 81 are ours: CE Broker's own were not available to us);
`fail_next` answers HTTP 503 that many times first; `delay` answers that late, after recording
(a slow service: the client may have stopped waiting). Run by hand for a demonstration:

    python -m tests.reporting.fake_cebroker --port 5121 [--fail-first 1] [--delay 4]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

PATH = "/CEBrokerWebService.asmx/UploadXMLString"
PROVIDER_ID = "50-4321"
UPLOAD_KEY = "TESTKEY01"


class FakeCEBroker:
    """The server, its received messages and what it will answer next."""

    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        self.messages: list[ET.Element] = []
        # The board's records: (course, license, state, date) of each attendee it accepted.
        self.recorded: list[tuple[str | None, ...]] = []
        self.fail_next = 0
        self.delay = delay
        self.lock = threading.Lock()
        self._ids = itertools.count(7001)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PATH}"

    def start(self) -> FakeCEBroker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def attendees(self) -> list[ET.Element]:
        """Every attendee received so far, in order."""
        return [a for message in self.messages for a in message.iter("attendee")]

    def receipt(self, message: ET.Element) -> str:
        """The return receipt of a message: an id per attendee, or the error."""
        out = ET.Element("rosters")
        for roster in message.iter("roster"):
            node = ET.SubElement(out, "roster", id_course=roster.findtext("id_course") or "")
            for attendee in roster.iter("attendee"):
                license_number = attendee.findtext("license") or ""
                if message.get("upload_key") != UPLOAD_KEY:
                    fields = {"ErrorCode": "10", "Message": "Invalid upload key"}
                elif license_number.upper().startswith("REJ"):
                    fields = {"ErrorCode": "80", "Message": "Invalid license Number"}
                elif (record := self._record(roster, attendee)) in self.recorded:
                    fields = {
                        "ErrorCode": "81",
                        "Message": "Duplicate: course completion already reported for licensee",
                    }
                else:
                    self.recorded.append(record)
                    fields = {"id_roster": str(next(self._ids)), "ErrorCode": "", "Message": ""}
                ET.SubElement(node, "attendee", license=license_number, **fields)
        inner = ET.tostring(out, encoding="unicode")
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<string xmlns="https://webservices.cebroker.com/">{escape(inner)}</string>'
        )

    @staticmethod
    def _record(roster: ET.Element, attendee: ET.Element) -> tuple[str | None, ...]:
        """What identifies a completion on the board: course, license, state and date."""
        fields = ("license", "cebroker_state", "course_date")
        return (roster.findtext("id_course"), *(attendee.findtext(f) for f in fields))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if self.path != PATH or "InXML" not in form:
                    return self._answer(404, "no such operation")
                with fake.lock:
                    failing = fake.fail_next > 0
                    fake.fail_next -= 1 if failing else 0
                if failing:
                    return self._answer(503, "Service Unavailable")
                message = ET.fromstring(form["InXML"][0])
                with fake.lock:
                    fake.messages.append(message)
                    receipt = fake.receipt(message)  # stored before answering, however late
                if fake.delay:
                    time.sleep(fake.delay)  # a slow service: the client may have given up
                self._answer(200, receipt, "text/xml; charset=utf-8")

            def _answer(self, status: int, text: str, mimetype: str = "text/plain") -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", mimetype)
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (a timeout): the roster is stored anyway

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5121)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 this many times")
    args = parser.parse_args()
    fake = FakeCEBroker(args.port, args.delay)
    fake.fail_next = args.fail_first
    print(f"fake CE Broker at {fake.endpoint}  (provider {PROVIDER_ID}, key {UPLOAD_KEY})")
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
