"""Test hosts on one machine: a network namespace per host, all joined by a bridge device in a
namespace of its own (the switch), and a link from the test process's namespace so the test can
reach them. A host's link can be cut and mended. Needs root and iproute2 (``.ci/run`` installs it).

Addresses are in 10.231.77.0/24, inside namespaces this test made: no traffic leaves the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

SUBNET = "10.231.77"
TEST_ADDRESS = f"{SUBNET}.254"  # the test process's end of its link


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)  # noqa: S603, S607 - iproute2


def can_make_hosts() -> str | None:
    """Why test hosts cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (the ip command) is not installed"
    return None


class TestNetwork:
    """Hosts by name, each with an address; ``exec_prefix`` runs a command on one."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        self.tag = f"{os.getpid() % 100000}"
        self.switch = f"st{self.tag}-sw"
        self.hosts: dict[str, str] = {}  # name -> address
        self._links: dict[str, str] = {}  # name -> its link's end on the switch

    def namespace(self, name: str) -> str:
        return f"st{self.tag}-{name}"

    def open(self) -> None:
        clear_leftovers()
        ip("netns", "add", self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        # The test process's own link (its namespace keeps its other interfaces and routes).
        here, there = f"st{self.tag}t", f"st{self.tag}ts"
        ip("link", "add", here, "type", "veth", "peer", "name", there)
        self._plug(there)
        ip("addr", "add", f"{TEST_ADDRESS}/24", "dev", here)
        ip("link", "set", here, "up")
        self._links["test"] = there

    def add(self, name: str) -> str:
        """A new host; returns its address."""
        address = f"{SUBNET}.{len(self.hosts) + 1}"
        namespace = self.namespace(name)
        ip("netns", "add", namespace)
        inside, there = f"st{self.tag}h{len(self.hosts)}", f"st{self.tag}s{len(self.hosts)}"
        ip("link", "add", inside, "type", "veth", "peer", "name", there)
        ip("link", "set", inside, "netns", namespace)
        ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
        ip("-n", namespace, "link", "set", inside, "up")
        self._plug(there)
        self.hosts[name] = address
        self._links[name] = there
        return address

    def _plug(self, end: str) -> None:
        ip("link", "set", end, "netns", self.switch)
        ip("-n", self.switch, "link", "set", end, "master", "br0")
        ip("-n", self.switch, "link", "set", end, "up")

    def exec_prefix(self, name: str) -> str:
        return f"ip netns exec {self.namespace(name)} "

    def cut(self, name: str) -> None:
        """Unplug a host from the switch: its packets go nowhere, its connections stay open."""
        ip("-n", self.switch, "link", "set", self._links[name], "down")

    def mend(self, name: str) -> None:
        ip("-n", self.switch, "link", "set", self._links[name], "up")

    def close(self) -> None:
        """Delete the test process's link and every namespace. The link goes explicitly: its peer's
        namespace outlives ``ip netns delete`` while anything still refers to it."""
        subprocess.run(["ip", "link", "delete", f"st{self.tag}t"], capture_output=True)  # noqa: S603, S607
        for name in [*self.hosts, None]:
            namespace = self.switch if name is None else self.namespace(name)
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)  # noqa: S603, S607


def clear_leftovers() -> None:
    """Remove what a run that died left: its namespaces and its link (which holds our address)."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()  # noqa: S603, S607
    for namespace in (n for n in names if re.fullmatch(r"st\d+-[\w-]+", n)):
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)  # noqa: S603, S607
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout  # noqa: S603, S607
    for link in re.findall(r"^\d+: (st\d+t)@", links, re.MULTILINE):
        subprocess.run(["ip", "link", "delete", link], capture_output=True)  # noqa: S603, S607


@contextmanager
def hosts_network() -> Iterator[TestNetwork]:
    network = TestNetwork()
    try:
        network.open()
        yield network
    finally:
        network.close()
