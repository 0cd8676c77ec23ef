"""The helpers' own promises that the fault tests rely on."""

import redis

from tests.live import RedisServer


def test_a_private_redis_takes_no_port_so_a_restart_gets_its_own_address_back(tmp_path):
    """Stopped, a TCP port can be taken by another session's server before start() brings ours
    back; a Unix socket in the test's directory cannot."""
    server = RedisServer(tmp_path).start()
    try:
        assert redis.Redis.from_url(server.url()).config_get("port") == {"port": "0"}
        pid = server.process.pid
        server.stop()
        server.start()
        assert server.process.pid != pid
        assert redis.Redis.from_url(server.url()).info("server")["process_id"] == server.process.pid
    finally:
        server.close()
    assert not server.socket.exists()
