"""Local SWF + Step Functions activity service (test infrastructure).

See README.md in this directory. Run with /usr/bin/python3 spec/service/server.py.
"""
