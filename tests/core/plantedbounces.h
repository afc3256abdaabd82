// SPDX-License-Identifier: MIT
// Bounces planted in a maildir as an MTA delivers them: delivery status notifications (RFC 3464)
// for one recipient each, written in tmp/ and renamed into new/. For the watch and alert tests,
// which need bounces at chosen times (a background, then a burst), in the core and the window.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace planted
{

inline void makeMaildir(const std::filesystem::path& dir)
{
    for (const char* sub : {"new", "cur", "tmp"})
        std::filesystem::create_directories(dir / sub);
}

/// "u7@gmail.com" for ('u', 7).
inline std::string gmailAddress(char prefix, int n)
{
    std::string a(1, prefix);
    a += std::to_string(n);
    a += "@gmail.com";
    return a;
}

/// Delivers bounce number `n` for `recipient`, dated `date` (RFC 5322), with the status and the
/// remote server's reply given.
inline void deliverDsn(const std::filesystem::path& maildir, int n, const std::string& recipient,
                       const std::string& date, const std::string& status, const std::string& diagnostic)
{
    const std::string name = std::to_string(1700000000 + n) + ".M" + std::to_string(n) + "P9.host";
    std::ofstream(maildir / "tmp" / name, std::ios::binary)
        << "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.sender.example>\r\nTo: "
           "news@shop.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: "
        << date << "\r\nMessage-ID: <dsn." << n
        << "@mx.sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
           "report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour "
           "message could not be delivered.\r\n\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
           "Reporting-MTA: dns; mx.sender.example\r\nArrival-Date: "
        << date << "\r\n\r\nFinal-Recipient: rfc822; " << recipient << "\r\nAction: failed\r\nStatus: " << status
        << "\r\nRemote-MTA: dns; gmail-smtp-in.l.google.com\r\nDiagnostic-Code: smtp; " << diagnostic
        << "\r\nLast-Attempt-Date: " << date << "\r\n\r\n--b1--\r\n";
    std::filesystem::rename(maildir / "tmp" / name, maildir / "new" / name);
}

} // namespace planted
