// SPDX-License-Identifier: MIT
#pragma once

#include "serverprocess.h"
// A real IMAP server for tests: Debian's Dovecot (dovecot-imapd), started on 127.0.0.1 on free
// high ports with its own configuration, users and maildir in a temporary folder, as the current
// user (no root needed). Run as root (a container), Dovecot refuses root for its login processes
// and for mail access: the login and internal processes then run as Dovecot's own users (dovenull,
// dovecot) and the mail as nobody, and the maildir is theirs.
// Used by tests/core/imap_test.cpp.

#include "imap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iterator>
#include <pwd.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace testimap
{

inline constexpr const char* kDovecot = "/usr/sbin/dovecot";

inline bool dovecotInstalled()
{
    return ::access(kDovecot, X_OK) == 0;
}

// A TCP port free on 127.0.0.1 (the kernel picks it).
inline int freeTcpPort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
        && ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(s);
    return port;
}

inline int connectTo(int port)
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
        return s;
    ::close(s);
    return -1;
}

inline bool acceptsConnections(int port)
{
    const int s = connectTo(port);
    if (s >= 0)
        ::close(s);
    return s >= 0;
}

/// Whether an IMAP greeting ("* OK") comes from the plain port within a second: Dovecot's login
/// process is up, not only its master's listening socket (a master that fails on a later
/// setting has already bound the port).
inline bool greets(int port)
{
    const int s = connectTo(port);
    if (s < 0)
        return false;
    timeval tv {1, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[64] = {};
    const auto n = ::recv(s, buf, sizeof buf - 1, 0);
    ::close(s);
    return n >= 4 && std::string_view(buf, static_cast<std::size_t>(n)).rfind("* OK", 0) == 0;
}

/// What kind of server to start.
struct ServerOptions {
    /// ssl = yes with a self-signed certificate made here: STARTTLS on port, IMAPS on imapsPort.
    bool tls = false;
    /// Advertise the capabilities without MOVE (the client then copies, flags and expunges).
    bool withoutMove = false;
};

/// Dovecot on 127.0.0.1:<free port>, one test user with a maildir, until stop() or destruction.
class ImapServer
{
public:
    static constexpr const char* kUser = "bounces";
    static constexpr const char* kPassword = "Tr0ub4dor-and-3"; ///< tests check it never shows

    std::string error; ///< why the server is not there; tests fail with it
    int port = 0; ///< plain IMAP (STARTTLS offered when tls)
    int imapsPort = 0; ///< implicit TLS, when tls
    pid_t pid = 0;

    explicit ImapServer(ServerOptions options = {})
        : m_options(options)
    {
    }
    ~ImapServer()
    {
        stop();
        std::error_code ec;
        if (!m_dir.empty())
            std::filesystem::remove_all(m_dir, ec);
    }
    ImapServer(const ImapServer&) = delete;
    ImapServer& operator=(const ImapServer&) = delete;

    /// Writes the configuration, the user and an empty INBOX, and starts Dovecot.
    void start()
    {
        if (!dovecotInstalled()) {
            error = std::string("the IMAP server binary ") + kDovecot
                + " is missing: install the Debian package dovecot-imapd (packaging/setup.sh does)";
            return;
        }
        static int instances = 0;
        m_dir = std::filesystem::temp_directory_path()
            / ("bt-dovecot-" + std::to_string(::getpid()) + "-" + std::to_string(instances++));
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir / "run");
        std::filesystem::create_directories(m_dir / "state");
        port = freeTcpPort();
        if (m_options.tls) {
            imapsPort = freeTcpPort();
            while (imapsPort == port)
                imapsPort = freeTcpPort();
            const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                                    " -subj /CN=localhost -keyout '"
                + (m_dir / "key.pem").string() + "' -out '" + (m_dir / "cert.pem").string() + "' >'"
                + (m_dir / "openssl.txt").string() + "' 2>&1";
            if (std::system(cmd.c_str()) != 0) {
                error = "openssl could not make the test certificate: " + read(m_dir / "openssl.txt");
                return;
            }
        }
        // Users: the current one; as root, Dovecot's own (it refuses root for these).
        const bool root = ::geteuid() == 0;
        std::string loginUser, internalUser, internalGroup;
        if (root) {
            loginUser = ::getpwnam("dovenull") ? "dovenull" : "nobody";
            internalUser = ::getpwnam("dovecot") ? "dovecot" : "nobody";
            internalGroup = ::getgrnam("dovecot") ? "dovecot" : "nogroup";
            const passwd* nobody = ::getpwnam("nobody");
            m_mailUid = nobody ? nobody->pw_uid : 65534;
            m_mailGid = nobody ? nobody->pw_gid : 65534;
        } else {
            const passwd* me = ::getpwuid(::getuid());
            loginUser = internalUser = me ? me->pw_name : std::to_string(::getuid());
            // Dovecot gives some of its sockets to this group: the user's own, as it may not chown.
            const group* mine = ::getgrgid(::getgid());
            internalGroup = mine ? mine->gr_name : std::to_string(::getgid());
            m_mailUid = ::getuid();
            m_mailGid = ::getgid();
        }
        createMaildir(home() / "Maildir");
        std::ofstream(m_dir / "users") << kUser << ":{PLAIN}" << kPassword << ":" << m_mailUid << ":" << m_mailGid
                                       << "::" << home().string() << "\n";
        std::ofstream conf(m_dir / "dovecot.conf");
        conf << "protocols = imap\n"
             << "listen = 127.0.0.1\n"
             << "base_dir = " << (m_dir / "run").string() << "\n"
             << "state_dir = " << (m_dir / "state").string() << "\n"
             << "log_path = " << (m_dir / "dovecot.log").string() << "\n"
             << "info_log_path = " << (m_dir / "dovecot.log").string() << "\n"
             << "default_login_user = " << loginUser << "\n"
             << "default_internal_user = " << internalUser << "\n"
             << "default_internal_group = " << internalGroup << "\n"
             << "first_valid_uid = " << m_mailUid << "\n"
             << "first_valid_gid = 0\n"
             << "auth_mechanisms = plain login\n"
             << "auth_failure_delay = 0\n" // a refused login answers at once (tests wait less)
             << "disable_plaintext_auth = no\n" // the plain-text port logs in too (loopback only)
             << "mail_location = maildir:~/Maildir\n"
             << "passdb {\n  driver = passwd-file\n  args = " << (m_dir / "users").string() << "\n}\n"
             << "userdb {\n  driver = passwd-file\n  args = " << (m_dir / "users").string() << "\n}\n"
             << "service imap-login {\n"
             << "  chroot =\n"
             << "  inet_listener imap {\n    address = 127.0.0.1\n    port = " << port << "\n  }\n"
             << "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " << imapsPort << "\n  }\n"
             << "}\n"
             << "service anvil {\n  chroot =\n}\n"
             // What sessions do to messages, in the log: tests tell a MOVE from COPY + STORE \Deleted.
             << "mail_plugins = $mail_plugins notify mail_log\n"
             << "plugin {\n  mail_log_events = copy delete expunge\n  mail_log_fields = uid box flags\n}\n";
        if (m_options.tls)
            conf << "ssl = yes\n"
                 << "ssl_cert = <" << (m_dir / "cert.pem").string() << "\n"
                 << "ssl_key = <" << (m_dir / "key.pem").string() << "\n";
        else
            conf << "ssl = no\n";
        if (m_options.withoutMove)
            // Dovecot 2.3's post-login capabilities, MOVE left out.
            conf << "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY"
                    " THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT"
                    " CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES"
                    " WITHIN CONTEXT=SEARCH LIST-STATUS BINARY LITERAL+\n";
        conf.close();
        launch();
    }

    /// Stops Dovecot and every process it started (its own process group) at once, as a crash
    /// or a power cut would: open sessions end too (the master alone would leave a logged-in
    /// imap process serving its client), and no test waits for Dovecot's orderly shutdown (1 s
    /// with children; 6 s when its log process is signalled with it). Dovecot's maildir and
    /// indexes are made to survive that. The maildir stays for restart().
    void stop()
    {
        if (pid <= 0)
            return;
        ::kill(-pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        // The children are no longer ours to wait for: wait until none is left in the group.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (groupRunning(pid) && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        pid = 0;
    }

    /// Starts the stopped server again with the same configuration, ports and mail.
    void restart()
    {
        stop();
        launch();
    }

    std::filesystem::path home() const { return m_dir / "mail" / kUser; }

    /// The maildir of a folder ("INBOX" is the Maildir itself; Maildir++ keeps others as .Name).
    std::filesystem::path maildir(const std::string& folder = "INBOX") const
    {
        return folder == "INBOX" ? home() / "Maildir" : home() / "Maildir" / ("." + folder);
    }

    /// Delivers a message the way an MTA does: written into tmp/, renamed into new/. Dovecot
    /// gives it the next UID when a session next looks at the mailbox.
    void deliver(const std::string& bytes, const std::string& folder = "INBOX")
    {
        const std::string name = std::to_string(::time(nullptr)) + ".bt" + std::to_string(m_delivered++) + "_"
            + std::to_string(::getpid()) + ".test";
        const auto tmp = maildir(folder) / "tmp" / name;
        std::ofstream(tmp, std::ios::binary) << bytes;
        std::filesystem::rename(tmp, maildir(folder) / "new" / name);
    }

    void deliverFile(const std::filesystem::path& file, const std::string& folder = "INBOX")
    {
        deliver(read(file), folder);
    }

    /// A folder beside INBOX (a Maildir++ .Name directory, which Dovecot lists and opens).
    void createFolder(const std::string& folder) { createMaildir(maildir(folder)); }

    /// Empties INBOX and drops Dovecot's UID list and indexes of it, as when a mailbox is deleted
    /// and made again: the next session sees a new UIDVALIDITY (Dovecot keeps the last one given
    /// in dovecot-uidvalidity*, left here, and gives a greater one) and UIDs from 1 again.
    void recreateInbox()
    {
        const auto box = maildir();
        for (const char* sub : {"new", "cur", "tmp"})
            for (const auto& e : std::filesystem::directory_iterator(box / sub))
                std::filesystem::remove(e.path());
        for (const auto& e : std::filesystem::directory_iterator(box)) {
            const std::string name = e.path().filename().string();
            if (name == "dovecot-uidlist" || name.rfind("dovecot.index", 0) == 0
                || name.rfind("dovecot.list.index", 0) == 0)
                std::filesystem::remove(e.path());
        }
    }

    /// Files of a folder's maildir, new/ and cur/ (cur/ names end in ":2,FLAGS").
    std::vector<std::string> files(const std::string& folder = "INBOX") const
    {
        std::vector<std::string> out;
        for (const char* sub : {"new", "cur"})
            for (const auto& e : std::filesystem::directory_iterator(maildir(folder) / sub))
                out.push_back(std::string(sub) + "/" + e.path().filename().string());
        return out;
    }

    /// An account on this server: plain text on `port`, STARTTLS on `port`, IMAPS on `imapsPort`.
    bt::ImapAccount account(bt::ImapAccount::Tls tls = bt::ImapAccount::Tls::None) const
    {
        bt::ImapAccount a;
        a.host = "127.0.0.1";
        a.port = tls == bt::ImapAccount::Tls::Implicit ? imapsPort : port;
        a.user = kUser;
        a.password = kPassword;
        a.tls = tls;
        a.timeoutSeconds = 10;
        return a;
    }

    std::string log() const { return read(m_dir / "stderr.txt") + read(m_dir / "dovecot.log"); }

    /// The uid the master process runs as, -1 when unknown.
    long uid() const { return testserver::uidOf(pid); }

    static std::string read(const std::filesystem::path& file)
    {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    ServerOptions m_options;

    /// Whether a process of the group is still running. Not kill(-group, 0): that also counts
    /// zombies, and in a container whose init does not reap, orphans stay zombies.
    static bool groupRunning(pid_t group)
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
            const std::string name = e.path().filename().string();
            if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0])))
                continue;
            std::ifstream in(e.path() / "stat");
            std::string stat;
            // A process that ends between the open and the read makes the read fail with ESRCH,
            // which libstdc++'s filebuf throws whatever the stream's exception mask (seen once in
            // CI: "basic_filebuf::underflow error reading the file: No such process").
            try {
                stat.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            } catch (const std::ios_base::failure&) {
                continue;
            }
            // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so from the last ')'.
            const auto close = stat.rfind(')');
            if (close == std::string::npos)
                continue;
            std::istringstream rest(stat.substr(close + 1));
            char state = 0;
            long ppid = 0, pgrp = 0;
            rest >> state >> ppid >> pgrp;
            if (pgrp == group && state != 'Z' && state != 'X')
                return true;
        }
        return false;
    }
    std::filesystem::path m_dir;
    unsigned m_mailUid = 0, m_mailGid = 0;
    int m_delivered = 0;

    void createMaildir(const std::filesystem::path& box)
    {
        for (const char* sub : {"new", "cur", "tmp"})
            std::filesystem::create_directories(box / sub);
        // As root, the mail belongs to the mail user (nobody): the home, the Maildir, its folders.
        if (::geteuid() == 0)
            for (auto p = box; p != m_dir && !p.empty(); p = p.parent_path()) {
                if (::chown(p.c_str(), m_mailUid, m_mailGid) != 0)
                    break;
                if (p == box)
                    for (const char* sub : {"new", "cur", "tmp"})
                        [[maybe_unused]] const int rc = ::chown((p / sub).c_str(), m_mailUid, m_mailGid);
            }
    }

    void launch()
    {
        error.clear();
        const std::string conf = (m_dir / "dovecot.conf").string();
        // A process group of its own, which stop() ends whole.
        error = testserver::spawn({kDovecot, "-F", "-c", conf}, (m_dir / "stderr.txt").string(), true, pid);
        if (!error.empty())
            return;
        // Ready when the plain port greets and the IMAPS port accepts.
        error = testserver::waitReady(
            pid, "dovecot", [this] { return greets(port) && (!m_options.tls || acceptsConnections(imapsPort)); },
            "did not listen on 127.0.0.1:" + std::to_string(port), [this] { return log(); });
    }
};

} // namespace testimap
