"""Network guard for the offline tests: put this folder on PYTHONPATH to load it.

Every Python process started with it (the test's subprocess and the Jupyter kernels it
starts) records and refuses any connection or name lookup that leaves the machine, through
Python's audit hooks. Local sockets (Unix sockets, loopback) stay allowed: they are how
Jupyter talks to its kernels. The log file is named by HUAIYIN_NETGUARD_LOG.
"""

import ipaddress
import os
import socket
import sys

LOG = os.environ.get("HUAIYIN_NETGUARD_LOG")
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "", None}


def _is_local(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args
        if sock.family == socket.AF_UNIX or _is_local(address[0]):
            return
    elif event == "socket.getaddrinfo":
        if _is_local(args[0]):
            return
    elif event not in {"socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto"}:
        return
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(f"pid {os.getpid()}: {event} {args!r} by {sys.argv!r}\n")
    raise OSError(f"network access blocked by the offline test: {event} {args!r}")


if LOG:
    sys.addaudithook(_hook)
