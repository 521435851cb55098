#!/usr/bin/python3
"""A credential_process for tests: hands out short-lived credentials from a
plan file, the way an STS-backed helper would.

    credential_process = /usr/bin/python3 spec/tools/cred_process.py PLAN.json

PLAN.json: {"sets": [{"akid", "secret", "token", "from", "expires"}, ...]}
(epoch seconds). It prints, in the credential_process format (Version 1),
the set issued last among those whose [from, expires) contains now. Each
call is appended to PLAN.json.calls (one line: time and the key handed out).
While PLAN.json.broken exists it fails instead (exit 1, a message on
stderr), as a helper that lost its own credentials would.
"""
import datetime
import json
import os
import sys
import time


def main(plan_path):
    now = time.time()
    with open(plan_path + ".calls", "a") as log:
        if os.path.exists(plan_path + ".broken"):
            log.write(f"{now:.3f} broken\n")
            sys.stderr.write("cred_process: cannot reach the identity broker\n")
            return 1
        with open(plan_path) as f:
            sets = json.load(f)["sets"]
        live = [s for s in sets if s["from"] <= now < s["expires"]]
        if not live:
            log.write(f"{now:.3f} none\n")
            sys.stderr.write("cred_process: no credentials planned for now\n")
            return 1
        s = max(live, key=lambda c: c["from"])
        log.write(f"{now:.3f} {s['akid']}\n")
    exp = datetime.datetime.fromtimestamp(s["expires"], datetime.timezone.utc)
    json.dump({"Version": 1, "AccessKeyId": s["akid"], "SecretAccessKey": s["secret"],
               "SessionToken": s["token"], "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
