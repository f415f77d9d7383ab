"""`touchlog check` as an ops user reads it: which file, what is unsafe, the server's names."""

from __future__ import annotations

import re

from tests.world import installed


def test_check_names_the_settings_file(world):
    out = world.touchlog("check").output
    assert f"settings   ok    {world.config.resolve()} loaded" in out


def test_unverified_tls_works_with_a_warning(world):
    port = world.imap.server.imaps_port
    world.write_settings(mailbox={"tls": "ssl", "port": port, "verify_tls": False})
    out = world.touchlog("check").output  # a warning is not a failure: exit 0
    [line] = [x for x in out.splitlines() if x.startswith("imap")]
    assert re.match(r"imap\s+warn\s+.*login ok \(ssl\), password from "
                    r"\$TOUCHLOG_TEST_IMAP_PASSWORD; WARNING: the server's certificate is "
                    r"not checked \(mailbox.verify_tls = false\)", line), line


def test_host_not_found_reads_the_same_for_imap_and_smtp(world):
    world.write_settings(mailbox={"host": "no-such-host.invalid", "tls": "ssl"},
                         notify={"enabled": True, "smtp_host": "no-such-host.invalid",
                                 "smtp_tls": "ssl"})
    out = world.touchlog("check", expect=1).output
    lines = {x.split()[0]: x for x in out.splitlines()}
    assert re.search(r"imap no-such-host.invalid:\d+: host not found$", lines["imap"]), out
    assert lines["smtp"].endswith("no-such-host.invalid:587: cannot connect: host not found"), out
    assert "Errno" not in out


def test_check_and_failures_show_the_servers_folder_names(imap_dot, tmp_path):
    world = installed(tmp_path, imap_dot)
    out = world.touchlog("check").output
    assert ("Touchpoints.Logged (Touchpoints/Logged in settings), Touchpoints.Failed "
            "(Touchpoints/Failed in settings) will be created") in out, out
    result = world.touchlog("failures", "show", "7", expect=1)
    assert "no message with UID 7 in Touchpoints.Failed (Touchpoints/Failed in settings)" \
        in result.output
