"""The database restarting under load: while it cannot be reached, pages and the API answer
503 saying so (never a traceback, never the general error page) and /healthz names the
database; once it is back, the next requests succeed without restarting anything.

On PostgreSQL the test's connections go through a TCP proxy that it "restarts": every
open connection is cut (as a restarting server does to its backends) and new ones are
refused, then accepted again. The machine's shared PostgreSQL itself is never touched.
On SQLite, which has no server to restart, the test is skipped.
"""

import contextlib
import socket
import threading

import pytest
from django.db import connection
from django.test import Client

from citycheck.core.choices import Role

pytestmark = pytest.mark.django_db(transaction=True)


class RestartingProxy:
    """127.0.0.1:<port> → the database server, with an outage switch."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def restart_begins(self):
        self.down = True
        for end in self.open:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        self.open = []

    def restart_ends(self):
        self.down = False

    def close(self):
        self.listener.close()


@pytest.fixture
def proxied_database():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no database server to restart")
    settings = connection.settings_dict
    original = (settings["HOST"], settings["PORT"])
    proxy = RestartingProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    connection.close()
    settings["HOST"], settings["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.restart_ends()
    connection.close()
    settings["HOST"], settings["PORT"] = original
    proxy.close()


def test_errors_say_the_database_is_unavailable_then_the_site_recovers(
    small_province, proxied_database
):
    client = Client(raise_request_exception=False)
    probe = Client(raise_request_exception=False)
    client.force_login(small_province.users[Role.PROVINCE_ADMIN])
    assert client.get("/api/places/places/").status_code == 200
    assert probe.get("/healthz").status_code == 200

    proxied_database.restart_begins()
    for _ in range(3):  # several requests while it is down: each one says so
        api = client.get("/api/places/places/")
        assert api.status_code == 503 and api["Retry-After"] == "30"
        assert api.json() == {"detail": "数据库暂时无法连接（可能正在重启），请稍后再试。"}
        page = client.get("/")
        assert page.status_code == 503
        assert "数据库暂时无法连接" in page.content.decode()
        assert "Traceback" not in page.content.decode()
        health = probe.get("/healthz")  # a probe has no session
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["ok"] is False

    proxied_database.restart_ends()
    assert client.get("/api/places/places/").status_code == 200
    assert probe.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
