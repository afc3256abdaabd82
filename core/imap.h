// SPDX-License-Identifier: MIT
#pragma once
// A small IMAP client for the watched mailbox of issue 15: read-only status, new UIDs, raw
// messages, moving processed ones to a folder. libcurl does the connection, TLS (IMAPS and
// STARTTLS) and the login (SASL); one easy handle is kept, so one connection and one login serve
// a whole poll. No IDLE: Debian 12's libcurl (7.88) has no way to send the DONE that ends it, so a
// watcher polls (examine() then uidsFrom()), which the issue allows.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bt
{

/// Where a watched mailbox is and how to log in. The password stays in this struct and in
/// libcurl's handle: no error message or log line carries it (nor the user name).
struct ImapAccount {
    std::string host;
    int port = 993;
    std::string user, password;
    std::string mailbox = "INBOX";
    /// Implicit: imaps (TLS from the first byte, port 993); StartTls: imap upgraded by STARTTLS,
    /// refused when the server does not offer it; None: plain text, for the loopback test server
    /// only — ImapClient refuses it for any host but 127.0.0.1, ::1 and localhost.
    enum class Tls { Implicit, StartTls, None } tls = Tls::Implicit;
    bool verifyPeer = true; ///< check the server's certificate and name (off only for self-signed test servers)
    int timeoutSeconds = 30; ///< to connect, and for each server answer
};

/// What EXAMINE says of the mailbox.
struct MailboxStatus {
    std::uint32_t uidValidity = 0; ///< when it changes, every UID remembered before means nothing
    std::uint32_t uidNext = 0; ///< the UID the next message will get (0 when the server did not say)
    std::uint32_t exists = 0; ///< messages in the mailbox
};

/// Why an IMAP operation failed. what() names host:port, the mailbox, what failed in plain words
/// and curl's (or the server's) words; never the user or the password.
class ImapError : public std::runtime_error
{
public:
    enum class Kind {
        LoginRefused, ///< bad user or password: retrying will not help
        CannotConnect, ///< nothing answers at host:port (or the name does not resolve)
        ConnectionDropped, ///< the server closed or broke the connection mid-way
        Tls, ///< TLS handshake, certificate check, or STARTTLS not offered
        Timeout,
        NoSuchMailbox, ///< the mailbox (or the move's target folder) is not there
        NoSuchMessage, ///< no message with that UID (moved or expunged meanwhile)
        Refused, ///< the server answered NO or BAD to a command
        Other
    };
    ImapError(Kind kind, const std::string& message)
        : std::runtime_error(message)
        , m_kind(kind)
    {
    }
    Kind kind() const { return m_kind; }

private:
    Kind m_kind;
};

/// One IMAP session over one libcurl handle; connects on first use and again when the server
/// dropped the connection. Not thread-safe: one client per thread.
class ImapClient
{
public:
    explicit ImapClient(ImapAccount account);
    ~ImapClient();
    ImapClient(const ImapClient&) = delete;
    ImapClient& operator=(const ImapClient&) = delete;

    /// EXAMINE the mailbox (read-only: no flag changes): UIDVALIDITY, UIDNEXT, EXISTS. On each new
    /// connection libcurl first SELECTs the mailbox itself, which changes no flag but \Recent.
    MailboxStatus examine();
    /// The UIDs >= firstUid in the mailbox, ascending (UID SEARCH UID n:*; the highest UID that
    /// IMAP returns for n:* when n is above every UID is left out).
    std::vector<std::uint32_t> uidsFrom(std::uint32_t firstUid);
    /// The whole raw message, as the server sends it (Dovecot sends a maildir's LF line ends as
    /// CRLF). Fetched in the EXAMINEd (read-only) mailbox, so \Seen is not set.
    std::string fetch(std::uint32_t uid);
    /// Moves the message to `folder` (UID MOVE when the server offers MOVE; else UID COPY, UID
    /// STORE +FLAGS (\Deleted) and, with UIDPLUS, UID EXPUNGE of that UID alone — without UIDPLUS
    /// the original stays flagged \Deleted rather than EXPUNGE removing other clients' deleted
    /// messages too). Throws NoSuchMessage when the mailbox has no such UID.
    void move(std::uint32_t uid, const std::string& folder);

    const ImapAccount& account() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace bt
