// SPDX-License-Identifier: MIT
#pragma once

#include "serverprocess.h"
// A real DNS server for tests: Debian's unbound, started on 127.0.0.1 on a free high port with
// its own configuration in a temporary folder, as the current user, answering from the local
// data a test gives it. Beside it, a UDP socket that is never read (a server that never answers).
// Shared by the check tests (tests/core/checks_test.cpp) and the DNS-check panel's (tests/ui).

#include "dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace testdns
{

// A port free for both UDP and TCP on 127.0.0.1 (the kernel picks it).
inline int freePort()
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
            || ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(u);
            continue;
        }
        const int t = ::socket(AF_INET, SOCK_STREAM, 0);
        const bool tcpFree = ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(t);
        ::close(u);
        if (tcpFree)
            return ntohs(a.sin_port);
    }
    return 0;
}

inline std::string replaceAll(std::string s, const std::string& from, const std::string& to)
{
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

/// unbound on 127.0.0.1:<free port>, for the life of the test process.
class DnsServer
{
public:
    std::string error; ///< why the server is not there; tests fail with it
    int port = 0;
    int blackholePort = 0;
    pid_t pid = 0;

    DnsServer() = default;
    // The server is a child process: a test process that ends (function-local statics
    // included) takes it down, instead of leaving an orphaned unbound behind.
    ~DnsServer() { stop(); }
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    std::string address() const { return "127.0.0.1:" + std::to_string(port); }
    std::string blackhole() const { return "127.0.0.1:" + std::to_string(blackholePort); }

    /// Starts unbound with `zone` (unbound server options: local zones and data, stub zones)
    /// after the fixed settings; %BLACKHOLE% in it becomes the port where nothing answers.
    void start(const std::string& zone)
    {
        // BT_UNBOUND names another binary (and lets one see the failure when it is missing).
        const char* override = std::getenv("BT_UNBOUND");
        std::string binary;
        for (const char* c : {"/usr/sbin/unbound", "/usr/local/sbin/unbound"})
            if (!override && ::access(c, X_OK) == 0) {
                binary = c;
                break;
            }
        if (override && ::access(override, X_OK) == 0)
            binary = override;
        if (binary.empty()) {
            error = std::string("the DNS server binary unbound is missing (")
                + (override ? override : "/usr/sbin/unbound")
                + "): install the Debian package unbound (packaging/setup.sh does)";
            return;
        }
        // A UDP socket that is never read: questions to it are never answered.
        m_blackholeFd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(m_blackholeFd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
            || ::getsockname(m_blackholeFd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            error = "cannot open the never-answering UDP socket";
            return;
        }
        blackholePort = ntohs(a.sin_port);
        port = freePort();
        static int instances = 0;
        m_dir = std::filesystem::temp_directory_path()
            / ("bt-unbound-" + std::to_string(::getpid()) + "-" + std::to_string(instances++));
        std::filesystem::create_directories(m_dir);
        const auto conf = m_dir / "unbound.conf";
        std::ofstream(conf) << "server:\n"
                            << "    interface: 127.0.0.1\n"
                            << "    port: " << port << "\n"
                            << "    do-ip6: no\n"
                            << "    username: \"\"\n" // keep the current user: no root needed, none dropped
                            << "    chroot: \"\"\n"
                            << "    directory: \"" << m_dir.string() << "\"\n"
                            << "    pidfile: \"" << (m_dir / "unbound.pid").string() << "\"\n"
                            << "    logfile: \"" << (m_dir / "unbound.log").string() << "\"\n"
                            << "    use-syslog: no\n"
                            << "    verbosity: 1\n"
                            << "    num-threads: 1\n"
                            << "    so-reuseport: no\n"
                            << "    access-control: 127.0.0.0/8 allow\n"
                            << "    module-config: \"iterator\"\n"
                            << "    do-not-query-localhost: no\n"
                            << "    infra-keep-probing: yes\n"
                            << replaceAll(zone, "%BLACKHOLE%", std::to_string(blackholePort));
        // Its output from the start (truncated: one file per instance).
        std::filesystem::remove(m_dir / "stderr.txt");
        error = testserver::spawn({binary, "-d", "-c", conf.string()}, (m_dir / "stderr.txt").string(), false, pid);
        if (!error.empty())
            return;
        // Ready when it answers a question from its data (NXDOMAIN included).
        error = testserver::waitReady(
            pid, "unbound",
            [this] {
                bt::dns::Options o;
                o.server = address();
                o.timeoutMs = 300;
                bt::dns::Resolver r(o);
                const auto st = r.query("good.test", bt::dns::Type::MX).status;
                return st == bt::dns::Status::Ok || st == bt::dns::Status::None || st == bt::dns::Status::NxDomain;
            },
            "did not answer on " + address(), [this] { return log(); }, 50);
    }

    void stop()
    {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            int status = 0;
            ::waitpid(pid, &status, 0);
            pid = 0;
        }
        if (m_blackholeFd >= 0)
            ::close(m_blackholeFd);
        m_blackholeFd = -1;
        std::error_code ec;
        if (!m_dir.empty())
            std::filesystem::remove_all(m_dir, ec);
    }

    std::string log() const
    {
        std::ostringstream ss;
        for (const char* f : {"stderr.txt", "unbound.log"})
            if (std::ifstream in(m_dir / f); in)
                ss << in.rdbuf();
        return ss.str();
    }

    /// The uid the server process runs as, -1 when unknown.
    long uid() const { return testserver::uidOf(pid); }

private:
    int m_blackholeFd = -1;
    std::filesystem::path m_dir;
};

} // namespace testdns
