// SPDX-License-Identifier: MIT
// Bounces planted in a maildir as an MTA delivers them: delivery status notifications (RFC 3464)
// for one recipient each, written in tmp/ and renamed into new/. For the watch and alert tests,
// which need bounces at chosen times (a background, then a burst), in the core and the window.
#pragma once

#include <algorithm>
#include <cstdio>
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

/// The scenario of the alert tests, on Tue 3 Mar 2026 (UTC). The background: one unknown-user
/// bounce at Gmail an hour from 06:10 for `hours` hours. Returns the next bounce number.
inline int plantBackground(const std::filesystem::path& maildir, int n, int hours = 6)
{
    for (int h = 0; h < hours; ++h) {
        char date[64];
        std::snprintf(date, sizeof date, "Tue, 3 Mar 2026 %02d:10:00 +0000", 6 + h);
        deliverDsn(maildir, n, gmailAddress('u', n), date, "5.1.1",
                   "550-5.1.1 The email account that you tried to reach does not exist.");
        ++n;
    }
    return n;
}

/// The burst: `count` reputation blocks at Gmail between 12:05 and 12:59. Returns the next number.
inline int plantBurst(const std::filesystem::path& maildir, int n, int count = 12)
{
    for (int i = 0; i < count; ++i) {
        char date[64];
        std::snprintf(date, sizeof date, "Tue, 3 Mar 2026 12:%02d:00 +0000", std::min(59, 5 + i * 4));
        deliverDsn(maildir, n, gmailAddress('b', n), date, "5.7.1",
                   "550-5.7.1 Our system has detected that this message is likely suspicious due to the very low "
                   "reputation of the sending IP address. To best protect our users from spam, the message has "
                   "been blocked.");
        ++n;
    }
    return n;
}

} // namespace planted
