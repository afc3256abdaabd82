// SPDX-License-Identifier: MIT
#include "imap.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>
#include <optional>
#include <poll.h>
#include <set>
#include <string_view>

namespace bt
{

namespace
{

std::once_flag g_curlInit;

bool isLoopback(const std::string& host)
{
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

/// An IMAP quoted string. CR, LF and NUL would end the command early and let a mailbox name
/// smuggle in another command: refused. Non-ASCII names would need modified UTF-7 (RFC 3501
/// 5.1.3), which this client does not write: refused too.
std::optional<std::string> quoted(const std::string& s)
{
    std::string q = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '\r' || u == '\n' || u == 0 || u >= 0x80)
            return std::nullopt;
        if (c == '"' || c == '\\')
            q += '\\';
        q += c;
    }
    return q + '"';
}

std::uint32_t toUid(std::string_view s)
{
    std::uint32_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

/// The number after `key` (e.g. "[UIDNEXT ") in `line`, if there.
std::optional<std::uint32_t> numberAfter(std::string_view line, std::string_view key)
{
    const auto at = line.find(key);
    if (at == std::string_view::npos)
        return std::nullopt;
    auto rest = line.substr(at + key.size());
    std::size_t n = 0;
    while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n])))
        ++n;
    if (n == 0)
        return std::nullopt;
    return toUid(rest.substr(0, n));
}

/// Calls f for each line of `text` without its CR LF.
template<class F> void forEachLine(std::string_view text, F f)
{
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        f(line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

/// Calls f for each space-separated word after `prefix` on the lines of `text` that start with
/// it ("* SEARCH", "* CAPABILITY "); empty words are skipped.
template<class F> void forEachWordAfter(std::string_view text, std::string_view prefix, F f)
{
    forEachLine(text, [&](std::string_view line) {
        if (!line.starts_with(prefix))
            return;
        line.remove_prefix(prefix.size());
        while (!line.empty()) {
            const auto end = line.find(' ');
            if (const auto word = line.substr(0, end); !word.empty())
                f(word);
            if (end == std::string_view::npos)
                break;
            line.remove_prefix(end + 1);
        }
    });
}

/// The numbers of the "* SEARCH" lines of an answer.
std::vector<std::uint32_t> searchAnswer(std::string_view text)
{
    std::vector<std::uint32_t> uids;
    forEachWordAfter(text, "* SEARCH", [&](std::string_view word) {
        if (const auto uid = toUid(word); uid != 0)
            uids.push_back(uid);
    });
    return uids;
}

bool containsNoCase(std::string_view hay, std::string_view needle)
{
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                       [](char a, char b) {
                           return std::tolower(static_cast<unsigned char>(a))
                               == std::tolower(static_cast<unsigned char>(b));
                       })
        != hay.end();
}

} // namespace

struct ImapClient::Impl {
    ImapAccount account;
    CURL* curl = nullptr;
    std::string mailboxUrl; ///< imap[s]://host:port/<mailbox, percent-encoded>
    std::string body; ///< what the write callback got during one perform
    std::string serverLine; ///< the server's first NO or BAD ("NO Mailbox doesn't exist: X")
    char errorBuffer[CURL_ERROR_SIZE] = {};
    /// What the server has open on our connection, as far as we know. libcurl SELECTs (read-write)
    /// the URL's mailbox by itself on a new connection before anything else; we EXAMINE or SELECT
    /// again as each operation needs.
    enum class Open { Unknown, Examined, Selected } open = Open::Unknown;
    std::optional<std::set<std::string>> capabilities; ///< of this connection
    bool droppedKeptConnection = false; ///< the last perform failed on a connection made before it

    /// Whether the kept connection is gone or about to be: none, or its socket is readable while
    /// no command is out — the server closed it or said BYE. libcurl would replace such a
    /// connection by itself, with its own read-write SELECT.
    bool connectionLooksClosed() const
    {
        curl_socket_t socket = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK || socket == CURL_SOCKET_BAD)
            return true;
        pollfd p {socket, POLLIN, 0};
        return ::poll(&p, 1, 0) != 0;
    }

    enum class Connection { Kept, Fresh };

    std::string hostPort() const
    {
        const bool v6 = account.host.find(':') != std::string::npos && account.host.rfind('[', 0) != 0;
        return (v6 ? "[" + account.host + "]" : account.host) + ":" + std::to_string(account.port);
    }

    std::string where() const { return "IMAP " + hostPort() + ", mailbox \"" + account.mailbox + "\""; }

    static std::size_t write(char* data, std::size_t size, std::size_t n, void* self)
    {
        static_cast<Impl*>(self)->body.append(data, size * n);
        return size * n;
    }

    // Only the server's lines are looked at, and only its first tagged NO or BAD is kept: what we
    // send (CURLINFO_HEADER_OUT, which holds AUTHENTICATE with the password) never is.
    static int debug(CURL*, curl_infotype type, char* data, std::size_t size, void* self)
    {
        if (type != CURLINFO_HEADER_IN)
            return 0;
        std::string_view line(data, size);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.remove_suffix(1);
        if (line.empty() || line.front() == '*' || line.front() == '+')
            return 0;
        // "A005 NO [TRYCREATE] Mailbox doesn't exist": drop libcurl's tag. Only the first NO or
        // BAD is kept: after a failure libcurl logs out, and "OK Logout completed" follows.
        const auto space = line.find(' ');
        if (space == std::string_view::npos)
            return 0;
        line.remove_prefix(space + 1);
        auto& kept = static_cast<Impl*>(self)->serverLine;
        if (kept.empty() && (line.rfind("NO", 0) == 0 || line.rfind("BAD", 0) == 0))
            kept = std::string(line.substr(0, 300));
        return 0;
    }

    [[noreturn]] void fail(CURLcode rc, const std::string& what) const
    {
        using K = ImapError::Kind;
        const std::string curlText = errorBuffer[0] ? errorBuffer : curl_easy_strerror(rc);
        K kind = K::Other;
        std::string plain;
        switch (rc) {
        case CURLE_LOGIN_DENIED:
            // libcurl reports a refused SELECT of the URL's mailbox with this code too.
            if (containsNoCase(curlText, "select failed")) {
                kind = K::NoSuchMailbox;
                plain = "no such mailbox (or it cannot be opened)";
            } else {
                kind = K::LoginRefused;
                plain = "login refused (bad user or password)";
            }
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
            kind = K::CannotConnect;
            plain = "cannot connect";
            break;
        case CURLE_OPERATION_TIMEDOUT:
            kind = K::Timeout;
            plain = "timeout (no answer within " + std::to_string(account.timeoutSeconds) + " s)";
            break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_USE_SSL_FAILED: // STARTTLS not offered or refused
            kind = K::Tls;
            plain = "TLS failure";
            break;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_WEIRD_SERVER_REPLY:
            kind = K::ConnectionDropped;
            plain = "connection dropped";
            break;
        case CURLE_QUOTE_ERROR: // a NO or BAD to one of our commands
            if (containsNoCase(serverLine, "NONEXISTENT") || containsNoCase(serverLine, "TRYCREATE")
                || containsNoCase(serverLine, "doesn't exist") || containsNoCase(serverLine, "does not exist")) {
                kind = K::NoSuchMailbox;
                plain = "no such mailbox";
            } else {
                kind = K::Refused;
                plain = "refused by the server";
            }
            break;
        case CURLE_REMOTE_FILE_NOT_FOUND:
            kind = K::NoSuchMessage;
            plain = "no such message";
            break;
        default:
            plain = "failed";
            break;
        }
        std::string message = where() + ": " + what + ": " + plain + ": " + curlText;
        if (!serverLine.empty() && kind != K::CannotConnect)
            message += " (the server said: " + serverLine + ")";
        throw ImapError(kind, message);
    }

    /// One transfer: `request` empty fetches the URL (a ;UID= message), else it is the custom
    /// command, whose untagged answers libcurl hands to the write callback. A read-only command
    /// that fails on a kept connection because the server dropped it meanwhile (restarted, idle
    /// timeout) is sent once more on a new one; a command that changes the mailbox is not, as the
    /// server may have carried it out before the connection broke.
    std::string perform(const std::string& url, const std::string& request, const std::string& what,
                        bool readOnly = true)
    {
        for (int attempt = 0;; ++attempt) {
            droppedKeptConnection = false;
            body.clear();
            serverLine.clear();
            errorBuffer[0] = 0;
            curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.empty() ? nullptr : request.c_str());
            const CURLcode rc = curl_easy_perform(curl);
            long connects = 0;
            curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
            if (connects > 0) {
                // A new connection: libcurl logged in and SELECTed the URL's mailbox itself.
                open = Open::Selected;
                capabilities.reset();
            }
            if (rc == CURLE_OK)
                return std::move(body);
            open = Open::Unknown;
            const bool dropped = rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING;
            droppedKeptConnection = dropped && connects == 0;
            if (!(droppedKeptConnection && readOnly && attempt == 0))
                fail(rc, what);
        }
    }

    std::string quotedOrThrow(const std::string& name) const
    {
        if (auto q = quoted(name))
            return *q;
        throw ImapError(ImapError::Kind::Other,
                        where() + ": the folder name \"" + name
                            + "\" holds a line break or non-ASCII characters, which this client does not send");
    }

    MailboxStatus examine(Connection connection = Connection::Kept)
    {
        if (connection == Connection::Fresh) {
            curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
            struct Reset {
                CURL* c;
                ~Reset() { curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 0L); }
            } reset {curl};
            return examine();
        }
        const std::string text = perform(mailboxUrl, "EXAMINE " + quotedOrThrow(account.mailbox), "EXAMINE");
        open = Open::Examined;
        MailboxStatus s;
        forEachLine(text, [&](std::string_view line) {
            if (auto v = numberAfter(line, "[UIDVALIDITY "))
                s.uidValidity = *v;
            else if (auto v = numberAfter(line, "[UIDNEXT "))
                s.uidNext = *v;
            else if (line.size() > 9 && line.substr(line.size() - 7) == " EXISTS")
                s.exists = toUid(line.substr(2));
        });
        if (s.uidValidity == 0)
            throw ImapError(ImapError::Kind::Other, where() + ": EXAMINE: the server gave no UIDVALIDITY");
        return s;
    }

    void select()
    {
        perform(mailboxUrl, "SELECT " + quotedOrThrow(account.mailbox), "SELECT");
        open = Open::Selected;
    }

    const std::set<std::string>& caps()
    {
        if (!capabilities) {
            const std::string text = perform(mailboxUrl, "CAPABILITY", "CAPABILITY");
            std::set<std::string> c;
            forEachWordAfter(text, "* CAPABILITY ", [&](std::string_view word) {
                std::string upper(word);
                for (char& ch : upper)
                    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                c.insert(std::move(upper));
            });
            capabilities = std::move(c);
        }
        return *capabilities;
    }
};

ImapClient::ImapClient(ImapAccount account)
    : d(std::make_unique<Impl>())
{
    d->account = std::move(account);
    const ImapAccount& a = d->account;
    if (a.tls == ImapAccount::Tls::None && !isLoopback(a.host))
        throw ImapError(ImapError::Kind::Tls,
                        d->where()
                            + ": plain-text IMAP (no TLS) is only for a test server on this machine (127.0.0.1)");
    if (!quoted(a.mailbox))
        throw ImapError(ImapError::Kind::Other,
                        d->where() + ": the mailbox name holds a line break or non-ASCII characters");
    std::call_once(g_curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    d->curl = curl_easy_init();
    if (!d->curl)
        throw ImapError(ImapError::Kind::Other, d->where() + ": cannot initialise libcurl");
    CURL* c = d->curl;

    char* escaped = curl_easy_escape(c, a.mailbox.c_str(), static_cast<int>(a.mailbox.size()));
    d->mailboxUrl = std::string(a.tls == ImapAccount::Tls::Implicit ? "imaps://" : "imap://") + d->hostPort() + "/"
        + (escaped ? escaped : "");
    curl_free(escaped);

    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(c, CURLOPT_USERNAME, a.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, a.password.c_str());
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     static_cast<long>(a.tls == ImapAccount::Tls::StartTls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, a.verifyPeer ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, a.verifyPeer ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(a.timeoutSeconds));
    // Each server answer (the greeting included) within the timeout; a body that stalls as well.
    curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, static_cast<long>(a.timeoutSeconds));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(a.timeoutSeconds));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); // watchers run on threads
    // libcurl 7.88 keeps only part of a server line longer than its buffer (16 KB by default):
    // a long "* SEARCH" line must fit, so take the largest buffer (512 KB) and search in windows.
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, static_cast<long>(CURL_MAX_READ_SIZE));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->errorBuffer);
    // The debug callback only keeps the server's tagged answers, for error messages; nothing is
    // printed.
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &Impl::debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, d.get());
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
}

ImapClient::~ImapClient()
{
    if (d && d->curl)
        curl_easy_cleanup(d->curl); // LOGOUT and close
}

const ImapAccount& ImapClient::account() const
{
    return d->account;
}

MailboxStatus ImapClient::examine()
{
    return d->examine();
}

std::vector<std::uint32_t> ImapClient::uidsFrom(std::uint32_t firstUid)
{
    firstUid = std::max<std::uint32_t>(firstUid, 1);
    // EXAMINE again first: a server shows a session the messages that arrived since its last
    // command only when it syncs the mailbox, which EXAMINE does; it also gives UIDNEXT, the end
    // of the windows below.
    const MailboxStatus status = d->examine();
    // Nothing at or above UIDNEXT yet: a poll with nothing new costs this one EXAMINE.
    if (status.uidNext != 0 && firstUid >= status.uidNext)
        return {};
    // Windows of 10 000 UIDs keep each "* SEARCH" line far below what libcurl's buffer holds
    // (10 000 UIDs of 10 digits: 110 KB of 512 KB).
    constexpr std::uint32_t window = 10000;
    std::vector<std::uint32_t> uids;
    for (std::uint32_t lo = firstUid;;) {
        const bool last = status.uidNext == 0 || status.uidNext - 1 <= lo || status.uidNext - 1 - lo < window;
        const std::uint32_t hi = last ? 0 : lo + window - 1;
        const std::string range = std::to_string(lo) + ":" + (last ? std::string("*") : std::to_string(hi));
        const std::string text = d->perform(d->mailboxUrl, "UID SEARCH UID " + range, "UID SEARCH for new messages");
        for (const auto uid : searchAnswer(text))
            if (uid >= lo && (last || uid <= hi))
                uids.push_back(uid); // n:* answers the highest UID even when it is below n
        if (last)
            break;
        lo = hi + 1;
    }
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
}

std::string ImapClient::fetch(std::uint32_t uid)
{
    // libcurl 7.88 fetches a ;UID= URL with BODY[] (not BODY.PEEK[]), and hands a custom FETCH's
    // literal back as its first line only. BODY[] sets \Seen only in a mailbox opened read-write,
    // so the FETCH must go out on a connection where the mailbox is EXAMINEd. On a new connection
    // libcurl would SELECT it (read-write) and fetch: so no new connection may be made for the
    // FETCH itself. One that the server closed (restart, idle logout) is replaced before, with
    // the EXAMINE; one that breaks during the FETCH is replaced, EXAMINEd and asked again.
    const std::string url = d->mailboxUrl + "/;UID=" + std::to_string(uid);
    const std::string what = "fetch of UID " + std::to_string(uid);
    for (int attempt = 0;; ++attempt) {
        if (d->connectionLooksClosed())
            d->examine(Impl::Connection::Fresh);
        else if (d->open != Impl::Open::Examined)
            d->examine();
        try {
            return d->perform(url, {}, what, false);
        } catch (const ImapError& e) {
            if (attempt > 0 || e.kind() != ImapError::Kind::ConnectionDropped || !d->droppedKeptConnection)
                throw;
        }
    }
}

void ImapClient::move(std::uint32_t uid, const std::string& folder)
{
    const std::string target = d->quotedOrThrow(folder);
    const std::string what = "move of UID " + std::to_string(uid) + " to \"" + folder + "\"";
    const std::string n = std::to_string(uid);
    if (d->open != Impl::Open::Selected)
        d->select(); // read-write: an EXAMINEd mailbox refuses MOVE, STORE and EXPUNGE
    const auto& caps = d->caps();
    const auto noSuchMessage
        = [&] { throw ImapError(ImapError::Kind::NoSuchMessage, d->where() + ": " + what + ": no such message"); };
    if (caps.count("MOVE")) {
        // A server answers OK to a MOVE of a UID it does not have, without the "* n EXPUNGE" (or
        // VANISHED) that RFC 6851 requires for each message moved.
        const std::string text = d->perform(d->mailboxUrl, "UID MOVE " + n + " " + target, what, false);
        bool moved = false;
        forEachLine(text, [&](std::string_view line) {
            if (line.size() > 9 && line.substr(line.size() - 8) == " EXPUNGE")
                moved = true;
            else if (line.rfind("* VANISHED", 0) == 0)
                moved = true;
        });
        if (!moved)
            noSuchMessage();
        return;
    }
    // Without MOVE, the message must be there before it is copied: COPY answers OK either way.
    const std::string found = d->perform(d->mailboxUrl, "UID SEARCH UID " + n, what + " (UID SEARCH)");
    const auto there = searchAnswer(found);
    if (std::find(there.begin(), there.end(), uid) == there.end())
        noSuchMessage();
    const bool uidplus = caps.count("UIDPLUS") > 0;
    d->perform(d->mailboxUrl, "UID COPY " + n + " " + target, what + " (UID COPY)", false);
    d->perform(d->mailboxUrl, "UID STORE " + n + " +FLAGS.SILENT (\\Deleted)", what + " (UID STORE \\Deleted)", false);
    if (uidplus)
        d->perform(d->mailboxUrl, "UID EXPUNGE " + n, what + " (UID EXPUNGE)", false);
}

} // namespace bt
