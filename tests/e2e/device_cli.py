"""A command-line tool's side of the device authorization grant (RFC 8628 §3), as a CLI
would run it against paced: discover the endpoints, ask for codes, tell the person where
to go, poll the token endpoint as the answers say, then call the API.

    python tests/e2e/device_cli.py SERVER CLIENT_ID SCOPE [--eager]

Its first line of output is a JSON object with `verification_uri_complete` and
`user_code`; its last, a JSON object with every polling error it met (`seen`) and either
`me` (the API's answer) or `error`. `--eager` sends its first two polls without waiting,
as a careless client would, to meet `slow_down`.
"""

from __future__ import annotations

import json
import sys
import time

import httpx

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def main(argv: list[str]) -> int:
    server, client_id, scope = argv[:3]
    eager = "--eager" in argv[3:]
    with httpx.Client(timeout=10) as http:
        metadata = http.get(f"{server}/.well-known/oauth-authorization-server").json()
        started = http.post(
            metadata["device_authorization_endpoint"],
            data={"client_id": client_id, "scope": scope},
        )
        started.raise_for_status()
        codes = started.json()
        say(
            verification_uri_complete=codes["verification_uri_complete"],
            user_code=codes["user_code"],
        )
        interval = codes["interval"]
        seen: list[str] = []
        polls = 0
        while True:
            if not (eager and polls < 2):
                time.sleep(interval)
            polls += 1
            answer = http.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": GRANT_TYPE,
                    "device_code": codes["device_code"],
                    "client_id": client_id,
                },
            )
            if answer.status_code == 200:
                token = answer.json()["access_token"]
                me = http.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                say(seen=seen, me_status=me.status_code, me=me.json())
                return 0
            error = answer.json()["error"]
            seen.append(error)
            if error == "authorization_pending":
                continue
            if error == "slow_down":  # RFC 8628 §3.5: 5 seconds more, from now on
                interval += 5
                continue
            say(seen=seen, error=error)
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
