// SPDX-License-Identifier: MIT
// The IMAP client (core/imap.h) against a real Dovecot from Debian, started by these tests on
// 127.0.0.1 on free high ports with its own configuration and maildir in a temporary folder, as
// the current user (tests/core/imapserver.h). Each test starts its own server, so each mailbox
// starts empty. Bounce emails are real ones from the Sisimai corpus. No IMAP mocks; the two
// servers that misbehave (never answers, hangs up) are plain sockets opened here.
#include "imap.h"
#include "imapserver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace
{

using bt::ImapAccount;
using bt::ImapClient;
using bt::ImapError;
using testimap::ImapServer;
using Tls = ImapAccount::Tls;
using Uids = std::vector<std::uint32_t>;

const std::filesystem::path kCorpus = std::filesystem::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd";

std::filesystem::path bounce(const char* name)
{
    return kCorpus / name;
}

/// What Dovecot sends for a maildir file: every bare LF as CR LF (IMAP's line end); CR LF
/// already in the file stays as it is.
std::string asCrlf(const std::string& s)
{
    std::string out;
    out.reserve(s.size() + s.size() / 20);
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            out += '\r';
        out += s[i];
    }
    return out;
}

/// Runs `f`, which must throw ImapError; returns it.
template<class F> ImapError imapError(F f)
{
    try {
        f();
    } catch (const ImapError& e) {
        return e;
    }
    ADD_FAILURE() << "no ImapError thrown";
    return ImapError(ImapError::Kind::Other, "");
}

/// How many logins Dovecot has logged, once at least `atLeast` are (its log process writes a
/// moment later; 2 s at most).
std::size_t logins(const ImapServer& server, std::size_t atLeast = 0)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        std::size_t n = 0;
        const std::string log = server.log();
        for (auto at = log.find("Login: user=<"); at != std::string::npos; at = log.find("Login: user=<", at + 1))
            ++n;
        if (n >= atLeast || std::chrono::steady_clock::now() > until)
            return n;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

class Imap : public ::testing::Test
{
protected:
    void SetUp() override
    {
        if (!testimap::dovecotInstalled())
            GTEST_SKIP() << testimap::kDovecot
                         << " is missing: install the Debian package dovecot-imapd (packaging/setup.sh does)";
        // Only a missing Dovecot skips; a missing corpus fails.
        ASSERT_TRUE(std::filesystem::is_directory(kCorpus)) << "the Sisimai corpus is not at " << kCorpus;
    }

    /// A started server; the test fails (not skips) when Dovecot is installed but does not start.
    std::unique_ptr<ImapServer> serve(testimap::ServerOptions options = {})
    {
        auto s = std::make_unique<ImapServer>(options);
        s->start();
        EXPECT_EQ(s->error, "");
        return s;
    }
};

TEST_F(Imap, ServerRunsAsTheCurrentUserOnAHighLoopbackPort)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    EXPECT_EQ(server->uid(), long(::getuid()));
    EXPECT_GT(server->port, 1024);
}

TEST_F(Imap, ExamineAnEmptyMailbox)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    ImapClient client(server->account());
    const auto s = client.examine();
    EXPECT_EQ(s.exists, 0u);
    EXPECT_EQ(s.uidNext, 1u);
    EXPECT_GT(s.uidValidity, 0u);
    EXPECT_EQ(client.uidsFrom(1), Uids {});
}

TEST_F(Imap, ExamineAMailboxOfThreeMessages)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    for (const char* f : {"rfc3464-01.eml", "lhost-exim-01.eml", "lhost-gmail-04.eml"})
        server->deliverFile(bounce(f));
    ImapClient client(server->account());
    const auto s = client.examine();
    EXPECT_EQ(s.exists, 3u);
    EXPECT_EQ(s.uidNext, 4u);
    EXPECT_EQ(client.uidsFrom(1), (Uids {1, 2, 3}));
    // EXAMINE is read-only: no message was marked \Seen (a maildir flag in the file name).
    for (const auto& f : server->files())
        EXPECT_EQ(f.find(":2,S"), std::string::npos) << f;
}

TEST_F(Imap, UidsFromReturnsExactlyTheNewUids)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    ImapClient client(server->account());
    EXPECT_EQ(client.uidsFrom(1), Uids {});
    server->deliverFile(bounce("rfc3464-01.eml"));
    server->deliverFile(bounce("lhost-exim-01.eml"));
    // The same connection sees what arrived since its last command.
    EXPECT_EQ(client.uidsFrom(1), (Uids {1, 2}));
    // Nothing new: IMAP answers "UID 3:*" with the highest UID (2); the client leaves it out.
    EXPECT_EQ(client.uidsFrom(3), Uids {});
    EXPECT_EQ(client.uidsFrom(1000), Uids {});
    for (const char* f : {"lhost-gmail-04.eml", "lhost-postfix-01.eml", "lhost-exchange2007-01.eml"})
        server->deliverFile(bounce(f));
    EXPECT_EQ(client.uidsFrom(3), (Uids {3, 4, 5}));
    EXPECT_EQ(client.uidsFrom(5), (Uids {5}));
    EXPECT_EQ(client.uidsFrom(6), Uids {});
    EXPECT_EQ(client.examine().uidNext, 6u);
}

TEST_F(Imap, APollLogsInOnce)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->createFolder("Processed");
    for (const char* f : {"rfc3464-01.eml", "lhost-exim-01.eml", "lhost-gmail-04.eml"})
        server->deliverFile(bounce(f));
    ImapClient client(server->account());
    // A watcher's poll: status, new UIDs, each message, each moved away; then the next poll.
    const auto status = client.examine();
    for (const auto uid : client.uidsFrom(1)) {
        EXPECT_FALSE(client.fetch(uid).empty());
        client.move(uid, "Processed");
    }
    EXPECT_EQ(client.uidsFrom(status.uidNext), Uids {});
    EXPECT_EQ(client.examine().exists, 0u);
    EXPECT_EQ(logins(*server, 1), 1u) << server->log();
}

TEST_F(Imap, UidsFromReadsASearchAnswerLongerThanLibcurlsDefaultBuffer)
{
    // 5000 UIDs make a "* SEARCH" line of 24 KB. libcurl 7.88 keeps only part of a server line
    // longer than its buffer, 16 KB by default: without the client's larger buffer this test
    // got 1 517 UIDs of the 5 000 (and 5 248 of 12 000).
    auto server = serve();
    ASSERT_EQ(server->error, "");
    for (int i = 0; i < 5000; ++i)
        server->deliver("From: a@example.org\r\nSubject: " + std::to_string(i) + "\r\n\r\nbody\r\n");
    ImapClient client(server->account());
    const Uids uids = client.uidsFrom(1);
    ASSERT_EQ(uids.size(), 5000u);
    EXPECT_EQ(uids.front(), 1u);
    EXPECT_EQ(uids.back(), 5000u);
    EXPECT_EQ(client.uidsFrom(4900).size(), 101u);
}

TEST_F(Imap, FetchReturnsTheBounceByteForByteWithoutSettingSeen)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    // One file with LF line ends, one with CR LF.
    const auto lf = bounce("rfc3464-01.eml");
    const auto crlf = bounce("lhost-barracuda-02.eml");
    const std::string lfBytes = ImapServer::read(lf), crlfBytes = ImapServer::read(crlf);
    ASSERT_EQ(lfBytes.find('\r'), std::string::npos);
    ASSERT_NE(crlfBytes.find("\r\n"), std::string::npos);
    server->deliverFile(lf);
    server->deliverFile(crlf);
    ImapClient client(server->account());
    ASSERT_EQ(client.uidsFrom(1), (Uids {1, 2}));
    // Dovecot keeps the maildir file as written and sends it with CR LF line ends (IMAP's).
    const std::string first = client.fetch(1);
    EXPECT_EQ(first.size(), asCrlf(lfBytes).size());
    EXPECT_TRUE(first == asCrlf(lfBytes));
    EXPECT_TRUE(client.fetch(2) == crlfBytes);
    // Fetched in the EXAMINEd mailbox: neither is \Seen now.
    for (const auto& f : server->files())
        EXPECT_EQ(f.find(":2,S"), std::string::npos) << f;
    // A UID that is not there.
    const auto e = imapError([&] { client.fetch(99); });
    EXPECT_EQ(e.kind(), ImapError::Kind::NoSuchMessage) << e.what();
}

TEST_F(Imap, UidValidityChangesWhenTheMailboxIsRecreated)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("rfc3464-01.eml"));
    server->deliverFile(bounce("lhost-exim-01.eml"));
    ImapClient client(server->account());
    const auto before = client.examine();
    EXPECT_EQ(before.uidNext, 3u);
    server->recreateInbox();
    server->deliverFile(bounce("lhost-gmail-04.eml"));
    ImapClient again(server->account());
    const auto after = again.examine();
    EXPECT_NE(after.uidValidity, before.uidValidity);
    EXPECT_EQ(after.exists, 1u);
    EXPECT_EQ(after.uidNext, 2u);
    EXPECT_EQ(again.uidsFrom(1), Uids {1});
}

TEST_F(Imap, WrongPasswordIsLoginRefusedAndNeverShowsThePassword)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    auto account = server->account();
    account.password = "Wr0ng-Passw0rd-xyz";
    ImapClient client(account);
    const auto e = imapError([&] { client.examine(); });
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), ImapError::Kind::LoginRefused) << what;
    EXPECT_NE(what.find("login refused (bad user or password)"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(server->port)), std::string::npos) << what;
    EXPECT_NE(what.find("INBOX"), std::string::npos) << what;
    EXPECT_EQ(what.find("Wr0ng-Passw0rd-xyz"), std::string::npos) << what;
    EXPECT_EQ(what.find(ImapServer::kPassword), std::string::npos) << what;
    EXPECT_EQ(what.find(ImapServer::kUser), std::string::npos) << what;
}

TEST_F(Imap, StoppedServerCannotConnectAndARestartedOneServesAgain)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("rfc3464-01.eml"));
    ImapClient client(server->account());
    EXPECT_EQ(client.uidsFrom(1), Uids {1});
    server->stop();
    const auto e = imapError([&] { client.examine(); });
    EXPECT_EQ(e.kind(), ImapError::Kind::CannotConnect) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(ImapServer::kPassword), std::string::npos) << e.what();
    // The same client connects and logs in again once the server is back.
    server->restart();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("lhost-exim-01.eml"));
    EXPECT_EQ(client.uidsFrom(2), Uids {2});
    EXPECT_TRUE(client.fetch(1) == asCrlf(ImapServer::read(bounce("rfc3464-01.eml"))));
}

TEST_F(Imap, AServerRestartBetweenPollsIsInvisible)
{
    // The kept connection is dead after a restart; a read-only command is sent once more on a
    // new one.
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("rfc3464-01.eml"));
    ImapClient client(server->account());
    EXPECT_EQ(client.uidsFrom(1), Uids {1});
    server->restart();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("lhost-exim-01.eml"));
    EXPECT_EQ(client.uidsFrom(1), (Uids {1, 2}));
    server->restart();
    ASSERT_EQ(server->error, "");
    EXPECT_TRUE(client.fetch(2) == asCrlf(ImapServer::read(bounce("lhost-exim-01.eml"))));
    for (const auto& f : server->files())
        EXPECT_EQ(f.find(":2,S"), std::string::npos) << f;
}

TEST_F(Imap, NoSuchMailbox)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    auto account = server->account();
    account.mailbox = "Bounces";
    ImapClient client(account);
    const auto e = imapError([&] { client.examine(); });
    EXPECT_EQ(e.kind(), ImapError::Kind::NoSuchMailbox) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such mailbox"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"Bounces\""), std::string::npos) << e.what();
}

TEST_F(Imap, ImapsAndStartTlsWithASelfSignedCertificate)
{
    auto server = serve({.tls = true});
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("lhost-barracuda-02.eml"));
    const std::string bytes = ImapServer::read(bounce("lhost-barracuda-02.eml"));
    for (const Tls tls : {Tls::Implicit, Tls::StartTls}) {
        SCOPED_TRACE(tls == Tls::Implicit ? "IMAPS" : "STARTTLS");
        auto account = server->account(tls);
        account.verifyPeer = false;
        ImapClient client(account);
        const auto before = logins(*server);
        EXPECT_EQ(client.examine().exists, 1u);
        EXPECT_TRUE(client.fetch(1) == bytes);
        EXPECT_EQ(client.uidsFrom(1), Uids {1});
        EXPECT_TRUE(client.fetch(1) == bytes);
        EXPECT_EQ(logins(*server, before + 1), before + 1) << server->log(); // one TLS connection served all
        // Checked, the self-signed certificate is refused.
        account.verifyPeer = true;
        ImapClient checking(account);
        const auto e = imapError([&] { checking.examine(); });
        EXPECT_EQ(e.kind(), ImapError::Kind::Tls) << e.what();
        EXPECT_NE(std::string(e.what()).find("TLS failure"), std::string::npos) << e.what();
    }
}

TEST_F(Imap, StartTlsIsRequiredWhenAsked)
{
    auto server = serve(); // ssl = no: no STARTTLS offered
    ASSERT_EQ(server->error, "");
    auto account = server->account(Tls::StartTls);
    account.verifyPeer = false;
    ImapClient client(account);
    const auto e = imapError([&] { client.examine(); });
    EXPECT_EQ(e.kind(), ImapError::Kind::Tls) << e.what();
}

TEST_F(Imap, PlainTextIsRefusedForAnyHostButLoopback)
{
    ImapAccount account;
    account.host = "imap.example.org";
    account.port = 143;
    account.user = "u";
    account.password = "p";
    account.tls = Tls::None;
    const auto e = imapError([&] { ImapClient client(account); });
    EXPECT_EQ(e.kind(), ImapError::Kind::Tls) << e.what();
}

/// Whether Dovecot's mail_log has logged `event` (its log process writes a moment later).
bool logShows(const ImapServer& server, const std::string& event)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
        if (server.log().find(event) != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void expectMoved(ImapServer& server, ImapClient& client)
{
    const std::string second = ImapServer::read(bounce("lhost-exim-01.eml"));
    client.move(2, "Processed");
    EXPECT_EQ(client.uidsFrom(1), (Uids {1, 3}));
    EXPECT_EQ(client.examine().exists, 2u);
    auto account = client.account();
    account.mailbox = "Processed";
    ImapClient processed(account);
    EXPECT_EQ(processed.examine().exists, 1u);
    EXPECT_EQ(processed.uidsFrom(1), Uids {1});
    EXPECT_TRUE(processed.fetch(1) == asCrlf(second));
    EXPECT_EQ(server.files("Processed").size(), 1u);
    EXPECT_EQ(server.files().size(), 2u);
    // Fetching after a move EXAMINEs again: still nothing \Seen in INBOX.
    EXPECT_TRUE(client.fetch(3) == asCrlf(ImapServer::read(bounce("lhost-gmail-04.eml"))));
    for (const auto& f : server.files())
        EXPECT_EQ(f.find(":2,S"), std::string::npos) << f;
}

TEST_F(Imap, MoveMovesAMessageToAnotherFolder)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->createFolder("Processed");
    for (const char* f : {"rfc3464-01.eml", "lhost-exim-01.eml", "lhost-gmail-04.eml"})
        server->deliverFile(bounce(f));
    ImapClient client(server->account());
    ASSERT_EQ(client.uidsFrom(1), (Uids {1, 2, 3}));
    expectMoved(*server, client);
    // One UID MOVE: no \Deleted flag was set on the way.
    EXPECT_TRUE(logShows(*server, "copy from INBOX: box=Processed, uid=1")) << server->log();
    EXPECT_TRUE(logShows(*server, "expunge: box=INBOX, uid=2")) << server->log();
    EXPECT_EQ(server->log().find("delete: "), std::string::npos) << server->log();
}

TEST_F(Imap, MoveWithoutTheMoveCapabilityCopiesFlagsAndExpunges)
{
    auto server = serve({.withoutMove = true});
    ASSERT_EQ(server->error, "");
    server->createFolder("Processed");
    for (const char* f : {"rfc3464-01.eml", "lhost-exim-01.eml", "lhost-gmail-04.eml"})
        server->deliverFile(bounce(f));
    ImapClient client(server->account());
    ASSERT_EQ(client.uidsFrom(1), (Uids {1, 2, 3}));
    expectMoved(*server, client);
    // UID COPY, then UID STORE +FLAGS (\\Deleted) (mail_log's "delete"), then UID EXPUNGE.
    EXPECT_TRUE(logShows(*server, "copy from INBOX: box=Processed, uid=1")) << server->log();
    EXPECT_TRUE(logShows(*server, "delete: box=INBOX, uid=2")) << server->log();
    EXPECT_TRUE(logShows(*server, "expunge: box=INBOX, uid=2")) << server->log();
}

TEST_F(Imap, MoveToAMissingFolderIsNoSuchMailbox)
{
    auto server = serve();
    ASSERT_EQ(server->error, "");
    server->deliverFile(bounce("rfc3464-01.eml"));
    ImapClient client(server->account());
    const auto e = imapError([&] { client.move(1, "Nowhere"); });
    EXPECT_EQ(e.kind(), ImapError::Kind::NoSuchMailbox) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"Nowhere\""), std::string::npos) << e.what();
    EXPECT_EQ(client.uidsFrom(1), Uids {1});
}

TEST_F(Imap, MoveOfAMissingUidIsNoSuchMessage)
{
    for (const bool withoutMove : {false, true}) {
        SCOPED_TRACE(withoutMove ? "COPY, STORE, EXPUNGE" : "MOVE");
        auto server = serve({.withoutMove = withoutMove});
        ASSERT_EQ(server->error, "");
        server->createFolder("Processed");
        server->deliverFile(bounce("rfc3464-01.eml"));
        ImapClient client(server->account());
        const auto e = imapError([&] { client.move(7, "Processed"); });
        EXPECT_EQ(e.kind(), ImapError::Kind::NoSuchMessage) << e.what();
        EXPECT_EQ(server->files("Processed").size(), 0u);
        EXPECT_EQ(client.uidsFrom(1), Uids {1});
    }
}

/// A TCP socket on 127.0.0.1 that listens and, when `hangUp`, closes each connection at once.
class BadServer
{
public:
    explicit BadServer(bool hangUp)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
        ::listen(m_fd, 8);
        port = ntohs(a.sin_port);
        if (hangUp)
            m_thread = std::thread([this] {
                while (!m_stop) {
                    const int c = ::accept(m_fd, nullptr, nullptr);
                    if (c >= 0)
                        ::close(c);
                }
            });
    }
    ~BadServer()
    {
        m_stop = true;
        ::shutdown(m_fd, SHUT_RDWR);
        if (m_thread.joinable())
            m_thread.join();
        ::close(m_fd);
    }
    int port = 0;

private:
    int m_fd = -1;
    std::atomic<bool> m_stop {false};
    std::thread m_thread;
};

ImapAccount loopback(int port, int timeoutSeconds)
{
    ImapAccount a;
    a.host = "127.0.0.1";
    a.port = port;
    a.user = "u";
    a.password = "secret-pw-42";
    a.tls = Tls::None;
    a.timeoutSeconds = timeoutSeconds;
    return a;
}

TEST(ImapFailure, ServerThatNeverAnswersIsATimeout)
{
    BadServer silent(false); // the kernel completes the connection; nobody ever says hello
    ImapClient client(loopback(silent.port, 1));
    const auto start = std::chrono::steady_clock::now();
    const auto e = imapError([&] { client.examine(); });
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(e.kind(), ImapError::Kind::Timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
    EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(ImapFailure, ServerThatHangsUpIsADroppedConnection)
{
    BadServer rude(true);
    ImapClient client(loopback(rude.port, 5));
    const auto e = imapError([&] { client.examine(); });
    EXPECT_EQ(e.kind(), ImapError::Kind::ConnectionDropped) << e.what();
    EXPECT_NE(std::string(e.what()).find("connection dropped"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret-pw-42"), std::string::npos) << e.what();
}

TEST(ImapFailure, NothingListeningCannotConnect)
{
    const int port = testimap::freeTcpPort();
    ImapClient client(loopback(port, 5));
    const auto e = imapError([&] { client.examine(); });
    EXPECT_EQ(e.kind(), ImapError::Kind::CannotConnect) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
}

} // namespace
