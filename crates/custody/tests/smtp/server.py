"""A real SMTP server for custody's tests (aiosmtpd, from PyPI or Debian's python3-aiosmtpd).

Listens on a free loopback port, prints "PORT <n>" once it is ready, and appends one JSON line
per accepted message to --out: the Message-ID, the recipients, the subject, the decoded plain-text part and the raw message.
Recipients steer its answers, so tests can provoke them:
  tempfail<N>-...@  answers 451 to the first N attempts for that address, then accepts;
  reject-...@       answers 550 every time.
--delay-ms slows each accepted message, so a test can kill a sender in the middle of a run.
--tls starttls|tls makes a certificate authority and a certificate for 127.0.0.1 (with openssl)
in --cert-dir, writes the authority to ca.pem there, and requires STARTTLS or speaks TLS from the
first byte.
"""


def make_certificates(directory):
    """A throwaway authority and a server certificate for 127.0.0.1, signed by it."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=custody test CA",
        "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "server.ext"), "w", encoding="utf-8") as ext:
        ext.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                  "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-out", "server.pem", "-extfile", "server.ext")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    return context


import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import ssl
import subprocess
import sys
import time

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, out, delay):
        self.out = open(out, "a", encoding="utf-8")
        self.delay = delay
        self.attempts = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        tempfail = re.match(r"tempfail(\d+)-", local)
        if tempfail:
            seen = self.attempts.get(address, 0)
            self.attempts[address] = seen + 1
            if seen < int(tempfail.group(1)):
                return "451 4.3.0 Try again later"
        if local.startswith("reject-"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay / 1000)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        plain = message.get_body(preferencelist=("plain",))
        record = {
            "message_id": message.get("Message-ID", ""),
            "at": time.time(),
            "text": plain.get_content() if plain is not None else "",
            "to": envelope.rcpt_tos,
            "subject": str(message.get("Subject", "")),
            "message": envelope.content.decode("utf-8", "replace"),
        }
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        return "250 2.0.0 Queued"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--tls", choices=["none", "starttls", "tls"], default="none")
    parser.add_argument("--cert-dir")
    args = parser.parse_args()
    handler = Recorder(args.out, args.delay_ms)
    loop = asyncio.get_running_loop()
    context = make_certificates(args.cert_dir) if args.tls != "none" else None
    options = {"hostname": "sink.test", "enable_SMTPUTF8": True, "data_size_limit": 10_000_000}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    server = await loop.create_server(
        lambda: SMTP(handler, **options),
        "127.0.0.1",
        0,
        ssl=context if args.tls == "tls" else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
