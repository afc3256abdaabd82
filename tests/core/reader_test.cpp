// SPDX-License-Identifier: MIT
// The bounce reader on shapes the corpus hardly has: MIME whose declared boundary never occurs,
// delivery-status fields written as text, reports without blank lines, CR-only files, replies
// wrapped or quoted by the MTA, and addresses that must not become recipients. The emails are
// written here, in the shapes the MTAs produce, not copied from the corpus.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

namespace
{

std::shared_ptr<const bt::Classifier> classifier()
{
    static auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

std::vector<bt::BounceRecord> readMail(const std::string& bytes)
{
    return bt::BounceReader(classifier()).read(bytes).records;
}

/// Exim's bounce (deliver.c's text) with these address blocks under its preamble.
std::string eximBounce(const std::string& failed)
{
    return "From: Mail Delivery System <Mailer-Daemon@mx1.sender.example>\nTo: alice@sender.example\n"
           "Subject: Mail delivery failed: returning message to sender\n\n"
           "This message was created automatically by mail delivery software.\n\n"
           "A message that you sent could not be delivered to one or more of its\n"
           "recipients. This is a permanent error. The following address(es) failed:\n\n"
        + failed;
}

const std::string kPostfixWrongBoundary = R"(From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)
To: alice@sender.example
Subject: Undelivered Mail Returned to Sender
Date: Tue, 01 Oct 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="AAAA/mail.sender.example"

This is a MIME-encapsulated message.

--BBBB/mail.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.sender.example.

<dave@example.net>: host mx.example.net[192.0.2.9] said: 550 5.1.1
    <dave@example.net>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)

--BBBB/mail.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.sender.example

Final-Recipient: rfc822; dave@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <dave@example.net>: Recipient address
    rejected: User unknown in local recipient table

--BBBB/mail.sender.example
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: alice@sender.example
To: dave@example.net
Message-ID: <abc@sender.example>
Subject: hi

hello

--BBBB/mail.sender.example--
)";

} // namespace

TEST(Reader, MultipartWhoseBoundaryNeverOccursIsReadWithTheBodysBoundary)
{
    const auto records = readMail(kPostfixWrongBoundary);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "dave@example.net");
    EXPECT_EQ(records[0].enhancedCode, "5.1.1");
    EXPECT_EQ(records[0].basicCode, 550);
    EXPECT_EQ(records[0].diagnosis.reason, "userunknown");
    // The returned message is told apart from the bounce's text.
    EXPECT_EQ(records[0].original.messageId, "<abc@sender.example>");
}

TEST(Reader, AReturnedMessageTypedTextPlainIsTheOriginalNotTheBouncesWords)
{
    // Hotmail's and other MTAs' DSNs that return the message as text/plain: its headers name
    // TLS and a Content-Type, words that read as a TLS or content refusal if taken for the
    // bounce's prose. They are the original's headers.
    const auto records = readMail(R"(From: postmaster@relay.example
To: alice@sender.example
Subject: Delivery Status Notification (Delay)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Unable to deliver message to the following recipients, due to being unable to connect
successfully to the destination mail server.

       ned@remote.example

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns;relay.example

Final-Recipient: rfc822;ned@remote.example
Action: delayed
Status: 4.4.7

--b1
Content-Type: text/plain

Received: from client.sender.example ([192.0.2.61]) by relay.example over TLS secured channel
	 Wed, 28 Jan 2015 21:29:14 -0800
Message-ID: <tp@sender.example>
Return-Path: alice@sender.example
From: Alice <alice@sender.example>
To: ned@remote.example
Subject: Attachment: forbidden file type?
Content-Type: text/plain; charset="iso-2022-jp"

hello
--b1--
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "ned@remote.example");
    EXPECT_EQ(records[0].diagnosis.reason, "expired");
    EXPECT_EQ(records[0].original.messageId, "<tp@sender.example>");
    EXPECT_EQ(records[0].original.fromDomain, "sender.example");
}

TEST(Reader, DeliveryStatusWrittenAsPlainTextIsRead)
{
    const auto records = readMail(R"(From: MAILER-DAEMON@gw.example
To: alice@sender.example
Subject: Delivery Status Notification (Failure)
Content-Type: text/plain

This is an automatically generated Delivery Status Notification.

Reporting-MTA: dns;gw.example
Arrival-Date: Tue, 1 Oct 2024 09:59:00 +0000

Final-Recipient: rfc822;ned@remote.example
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp;552 5.2.2 Mailbox full

Received: from client.sender.example by gw.example
Message-ID: <zz@sender.example>
From: alice@sender.example
To: ned@remote.example
Subject: hi
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "ned@remote.example");
    EXPECT_EQ(records[0].enhancedCode, "5.2.2");
    EXPECT_EQ(records[0].diagnosis.reason, "mailboxfull");
}

TEST(Reader, DeliveryStatusWithoutBlankLinesGivesEveryRecipient)
{
    const auto records = readMail(R"(From: MAILER-DAEMON@gw.example
To: alice@sender.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XYZ"

--XYZ
Content-Type: text/plain

Delivery failed for some recipients.

--XYZ
Content-Type: message/delivery-status

Reporting-MTA: dns;gw.example
Final-Recipient: rfc822;uma@remote.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp;550 5.1.1 User unknown
Final-Recipient: rfc822;vic@remote.example
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp;552 5.2.2 Mailbox full

--XYZ--
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].recipient, "uma@remote.example");
    EXPECT_EQ(records[0].reportingMta, "gw.example");
    EXPECT_EQ(records[1].recipient, "vic@remote.example");
    EXPECT_EQ(records[1].enhancedCode, "5.2.2");
}

TEST(Reader, CrOnlyFileWithAnMboxFromLineIsAnEmail)
{
    std::string mac = "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + kPostfixWrongBoundary;
    for (auto& c : mac)
        if (c == '\n')
            c = '\r';
    EXPECT_TRUE(bt::looksLikeEmail(mac));
    const auto records = readMail(mac);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "dave@example.net");
}

TEST(Reader, GenericReaderTakesOnlyTheAddressesTheBounceNames)
{
    // An MTA no module knows; the returned headers follow without a marker the reader knows.
    const auto records = readMail(R"(From: MAILER-DAEMON <>
To: kijitora@sender.example
Subject: Mail delivery failed
Message-Id: <b1@sender.example>

This is the Example Mail Agent v1.0 at sender.example.

There was an error delivering your mail to <wendy@remote.example>.

mx.remote.example [192.0.2.1] did not like our RCPT TO:
550 5.1.1 <wendy@remote.example>: Recipient address rejected: User unknown

Copy of the headers:

Received: from root (uid 0)
	(envelope-from kijitora@sender.example)
	by sender.example;
Subject: hi
To: <wendy@remote.example>
Message-Id: <666815b5.e0722.4e479ce6@sender.example>
From: <kijitora@sender.example>
Authentication-Results: mx; spf=pass smtp.mailfrom=kijitora@sender.example
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "wendy@remote.example");
    EXPECT_EQ(records[0].basicCode, 550);
    EXPECT_EQ(records[0].diagnosis.reason, "userunknown");
}

// A list manager's notice that a post was refused, signed by the list's owner address, which
// the text also gives as the one to contact ("contact the list owner at …" and on a line of its
// own): the owner wrote the notice and is not the address that failed; the list is (the
// returned post's To).
TEST(Reader, TheAddressThatSignsANoticeIsItsContactNotAFailedRecipient)
{
    const auto records = readMail(R"(From: dev-list-owner@lists.example.org
To: anna@example.com
Subject: Request to mailing list Dev-list rejected
Message-ID: <m1@lists.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset="us-ascii"

Your request to the Dev-list mailing list

    Posting of your message titled "fix the parser"

has been rejected by the list moderator.  The moderator gave the
following reason for rejecting your request:

"You are not allowed to post to this mailing list, and your message
has been automatically rejected.  If you think that your messages are
being rejected in error, contact the mailing list owner at
dev-list-owner@lists.example.org."

Any questions or comments should be directed to the list administrator
at:

    dev-list-owner@lists.example.org

--b1
Content-Type: message/rfc822

From: Anna <anna@example.com>
To: dev-list@lists.example.org
Subject: fix the parser
Message-ID: <p1@example.com>

the patch
--b1--
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "dev-list@lists.example.org");
    EXPECT_EQ(records[0].diagnosis.family, "policy") << records[0].diagnosis.reason;
}

// Domino's delivery report may carry no Diagnostic-Code at all: its text's "because:" sentence
// about each recipient is then its diagnosis. "Not listed in Domino Directory" means Domino
// looked the user up itself (userunknown, as in its text-only bounce), not a filter's "user
// unknown" of a bounce that names no SMTP stage; the other recipient keeps its own reason.
TEST(Reader, ADominoReportWithoutDiagnosticCodeReadsItsOwnSentence)
{
    const auto records = readMail(R"(From: Postmaster@example.org
To: markus@example.com
Subject: DELIVERY FAILURE: User Hiroshi Tanaka (htanaka@example.org) not listed in Domino Directory
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="=_mixed 0031_="

--=_mixed 0031_=
Content-Type: text/plain; charset="US-ASCII"

Your message

  Subject: Q2 forecast

was not delivered to:

  htanaka@example.org

because:

  User Hiroshi Tanaka (htanaka@example.org) not listed in Domino Directory

was not delivered to:

  sales@example.org

because:

  Maximum hop count exceeded.  Message probably in a routing loop.

--=_mixed 0031_=
Content-Type: message/delivery-status

Reporting-MTA: dns;notes01.example.org

Final-Recipient: rfc822;htanaka@example.org
Action: failed
Status: 5.0.0

Final-Recipient: rfc822;sales@example.org
Action: failed
Status: 5.4.6

--=_mixed 0031_=--
)");
    ASSERT_EQ(records.size(), 2u);
    std::map<std::string, std::string> reasons;
    for (const auto& r : records)
        reasons[r.recipient] = r.diagnosis.reason;
    EXPECT_EQ(reasons["htanaka@example.org"], "userunknown");
    EXPECT_EQ(reasons["sales@example.org"], "networkerror");
}

// A Sendmail-style report (a gateway's): the first recipient's Diagnostic-Code and transcript,
// the second's only its "(reason: …)" under its address in the listing. The second keeps its own
// reply; it must not take the first one's from the transcript that follows its short paragraph.
TEST(Reader, ARecipientWithoutDiagnosticCodeKeepsItsOwnReasonLine)
{
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@gw.example.com>
To: <diego@example.com>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2"

--b2

   ----- The following addresses had permanent fatal errors -----
<henrik@example.net>
    (reason: 530 5.7.0 Must issue a STARTTLS command first)
<info@nosuchdomain.example.org>
    (reason: 550 Host unknown)

   ----- Transcript of session follows -----
... while talking to mx1.example.net.:
>>> MAIL From:<diego@example.com> SIZE=48213
<<< 530 5.7.0 Must issue a STARTTLS command first
554 5.0.0 Service unavailable
550 5.1.2 <info@nosuchdomain.example.org>... Host unknown (Name server: nosuchdomain.example.org: host not found)

--b2
Content-Type: message/delivery-status

Reporting-MTA: dns; gw.example.com

Final-Recipient: RFC822; henrik@example.net
Action: failed
Status: 5.7.0
Diagnostic-Code: SMTP; 530 5.7.0 Must issue a STARTTLS command first

Final-Recipient: RFC822; info@nosuchdomain.example.org
Action: failed
Status: 5.1.2

--b2--
)");
    ASSERT_EQ(records.size(), 2u);
    std::map<std::string, const bt::BounceRecord*> by;
    for (const auto& r : records)
        by[r.recipient] = &r;
    ASSERT_TRUE(by.contains("info@nosuchdomain.example.org"));
    EXPECT_EQ(by["info@nosuchdomain.example.org"]->diagnosis.reason, "hostunknown");
    EXPECT_EQ(by["info@nosuchdomain.example.org"]->diagnosis.replyText.find("STARTTLS"), std::string::npos);
    EXPECT_EQ(by["henrik@example.net"]->diagnosis.reason, "failedstarttls");
}

// Microsoft 365's NDR lists the original's sender among its details ("Sender Address:", in the
// reader's language): that line names the sender, who is no failed recipient.
TEST(Reader, AnNdrsSenderAddressLineNamesNoRecipient)
{
    for (const char* label : {"Sender Address:", "Absenderadresse:",
                              "Adresse de l'exp\xC3\xA9"
                              "diteur :"}) {
        const auto records
            = readMail(std::string("From: Helpdesk <support@helpdesk.example>\nTo: ops@example.com\n"
                                   "Subject: New ticket\nContent-Type: text/plain; charset=utf-8\n\n"
                                   "Your message to partners@example.org couldn't be delivered.\n\n"
                                   "Daily recipient limit exceeded\n\n"
                                   "Remote Server returned '550 5.1.90 You've reached your daily recipient limit'\n\n"
                                   "Original message details\n")
                       + label + " sales@example.com\nRecipient Address: partners@example.org\n");
        ASSERT_EQ(records.size(), 1u) << label;
        EXPECT_EQ(records[0].recipient, "partners@example.org") << label;
    }
}

TEST(Reader, QuotedReplyEndsAtItsClosingQuote)
{
    const auto records = readMail(R"(From: postmaster@firma.example
To: alice@sender.example
Subject: Unzustellbar: hi
Content-Type: text/plain; charset=utf-8

Die Nachricht konnte nicht an folgende Empfänger oder Gruppen übermittelt werden:

erik@firma.example
Die eingegebene E-Mail-Adresse wurde nicht gefunden.

Diagnoseinformationen für Administratoren:

erik@firma.example
Remoteserver hat '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found' zurückgegeben
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].replyText, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
    EXPECT_EQ(records[0].diagnosis.reason, "userunknown");
}

TEST(Reader, EximReplyWrappedOverIndentedLinesStaysWhole)
{
    const auto records = readMail(eximBounce(R"(  rose@example.org
    host mx.example.org [192.0.2.5]: 552 Sorry, this mailbox
    is over quota and cannot accept any more mail
)"));
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].replyText, "552 Sorry, this mailbox is over quota and cannot accept any more mail");
}

/// A qmail bounce's headers and opening, up to its first recipient.
const std::string kQmailHead = R"(From: MAILER-DAEMON@mx.sender.example
To: alice@sender.example
Subject: failure notice

Hi. This is the qmail-send program at mx.sender.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

)";

TEST(Reader, ASendmailTranscriptsBareCodeAtConnectGivesWayToItsDeferral)
{
    // Sendmail without a delivery-status part: the server greeted with a bare "421" for days,
    // and Sendmail gave up. The message expired; the bare code at connect says no more than that.
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.example>
To: <alice@sender.example>
Subject: Returned mail: see transcript for details
Date: Sun, 13 Sep 2015 11:21:54 +0900

The original message was received at Sun, 6 Sep 2015 03:10:06 +0900
from client.sender.example [192.0.2.135]

   ----- The following addresses had permanent fatal errors -----
<bob@remote.example>
    (reason: )

   ----- Transcript of session follows -----
... while talking to mx.remote.example.:
<<< 421
<bob@remote.example>... Deferred: 421
Message could not be delivered for 5 days
Message will be deleted from queue
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "bob@remote.example");
    EXPECT_EQ(records[0].diagnosis.reason, "expired");
}

TEST(Reader, QmailRemoteReplyKeepsItsLinesWithoutCode)
{
    const auto records = readMail(kQmailHead + R"(<xena@remote.example>:
192.0.2.7 does not like recipient.
Remote host said: 550 Requested action not taken:
mailbox unavailable, no such user here
Giving up on 192.0.2.7.
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].replyText, "550 Requested action not taken: mailbox unavailable, no such user here");
}

TEST(Reader, AStageCueWrappedOntoTheNextLineStillNamesTheStage)
{
    // qmail's "most progress was RCPT TO response", wrapped before the command: the user is
    // unknown at RCPT TO (userunknown), not refused by a filter after DATA.
    const auto records = readMail(kQmailHead + R"(<xena@remote.example>:
Sorry, no SMTP connection got far enough; most progress was
RCPT TO response; remote host 192.0.2.32 said: 550 Unknown
user xena@remote.example
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].diagnosis.smtpStage, "RCPT TO");
    EXPECT_EQ(records[0].diagnosis.reason, "userunknown");
}

TEST(Reader, TextModuleTakesTheStatusTheReportFieldsState)
{
    // Sendmail's prose names the reply; the Status is only in the report fields below it.
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: shironeko@sender.example
Subject: Returned mail: see transcript for details

The original message was received at Thu, 29 Apr 2000 23:34:45 +0900 (JST)

   ----- The following addresses had permanent fatal errors -----
<yuri@example.net>

   ----- Transcript of session follows -----
554 <yuri@example.net>... Service unavailable

Reporting-MTA: dns; mx.example.net

Final-Recipient: RFC822; <yuri@example.net>
Action: failed
Status: 5.5.0
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "yuri@example.net");
    EXPECT_EQ(records[0].enhancedCode, "5.5.0");
}

TEST(Reader, DiagnoseInputReadsAnEmailAsReadDoesAndAReplyAsAReply)
{
    const bt::BounceReader reader(classifier());
    const auto email = reader.diagnoseInput(kPostfixWrongBoundary);
    EXPECT_TRUE(email.email);
    const auto direct = reader.read(kPostfixWrongBoundary).records;
    ASSERT_EQ(email.outcome.records.size(), direct.size());
    EXPECT_EQ(email.outcome.records[0].recipient, direct[0].recipient);
    EXPECT_EQ(email.outcome.records[0].diagnosis.reason, direct[0].diagnosis.reason);
    // The record's diagnosis states the record's codes (the card shows them).
    EXPECT_EQ(email.outcome.records[0].diagnosis.enhancedCode, "5.1.1");
    EXPECT_FALSE(email.outcome.records[0].diagnosis.codeMeaning.empty());

    const auto reply = reader.diagnoseInput("550 5.1.1 <x@example.com>: Recipient address rejected: User unknown");
    EXPECT_FALSE(reply.email);
    EXPECT_TRUE(reply.outcome.records.empty());
    EXPECT_EQ(reply.diagnosis.reason, "userunknown");
    EXPECT_FALSE(bt::looksLikeEmail("550 5.1.1 user unknown\nsecond line"));
}

TEST(Reader, AnEmailWithNoBouncedRecipientIsDiagnosedFromItsTextNotItsHeaders)
{
    // Pasted whole, a person's forward of a bounce's text: no report, no recipient; its reply is
    // in the text. The header block ("Subject:" read as a header refusal) is not part of it, and
    // the evidence still points into the input as pasted.
    const std::string input = "From: Alice <alice@example.org>\nTo: ops@example.org\nSubject: Fwd: bounce\n"
                              "Date: Mon, 1 Jan 2024 10:00:00 +0000\n\nThe mailbox is full.\n";
    const bt::BounceReader reader(classifier());
    const auto d = reader.diagnoseInput(input);
    EXPECT_TRUE(d.email);
    EXPECT_TRUE(d.outcome.records.empty());
    EXPECT_EQ(d.diagnosis.reason, "mailboxfull");
    EXPECT_EQ(d.diagnosis.replyText.find("Subject"), std::string::npos) << d.diagnosis.replyText;
    ASSERT_FALSE(d.diagnosis.evidence.empty());
    const auto& e = d.diagnosis.evidence.front();
    EXPECT_EQ(input.substr(d.replyOffset + e.start, e.end - e.start),
              d.diagnosis.replyText.substr(e.start, e.end - e.start));
}

TEST(Reader, ALineWithEscapedBreaksIsReadAsTheLinesItStandsFor)
{
    // A log line or a TSV cell: an NDR's sentence and the reply, the break between them escaped.
    // The escapes become breaks length for length, so the reply's offset and its evidence still
    // point into the input as written.
    const std::string input = "Remote server said:\\n550 5.1.1 <bob@example.com>: user unknown";
    const bt::BounceReader reader(classifier());
    const auto d = reader.diagnoseInput(input);
    EXPECT_FALSE(d.email);
    EXPECT_EQ(d.diagnosis.family, "address");
    EXPECT_EQ(input.substr(d.replyOffset, 9), "550 5.1.1");
    ASSERT_FALSE(d.diagnosis.evidence.empty());
    const auto& e = d.diagnosis.evidence.front();
    EXPECT_EQ(input.substr(d.replyOffset + e.start, e.end - e.start),
              d.diagnosis.replyText.substr(e.start, e.end - e.start));
}

TEST(Reader, AnEspEventPastedAsJsonIsReadByItsReplyField)
{
    // One event of each ESP's export (tests/data), pasted or piped in as JSON: the reply is the
    // field the importer takes, not the JSON around it, and the evidence points into the input.
    auto lineOf = [](const char* file, std::string_view has) {
        std::ifstream in(std::filesystem::path(BT_TEST_DATA) / file);
        std::string line;
        while (std::getline(in, line))
            if (line.find(has) != std::string::npos)
                return line;
        return std::string();
    };
    struct Case {
        std::string json, reply;
    };
    const std::vector<Case> cases = {
        {lineOf("ses-notifications.jsonl", "\"Bounce\""),
         "550 5.1.1 <kim@example.net>: Recipient address rejected: User unknown"},
        {lineOf("sendgrid-events.jsonl", "\"bounce\""), ""},
        {lineOf("brevo-events.jsonl", "hard_bounce"),
         "550 5.1.1 <jan@example.com>: Recipient address rejected: User unknown"},
        {R"({"event": "failed", "reason": "bounce", "severity": "permanent", "recipient": "bob@example.net",
  "delivery-status": {"mx-host": "mx.example.net", "code": 550, "message": "5.7.1 Service unavailable; client [203.0.113.5] blocked using zen.spamhaus.org", "description": ""},
  "message": {"headers": {"subject": "Hello"}}})",
         "5.7.1 Service unavailable; client [203.0.113.5] blocked using zen.spamhaus.org"},
        {R"({"RecordType": "Bounce", "Type": "HardBounce", "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).", "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.", "Email": "bob@example.net"})",
         "550 5.1.1 The email account that you tried to reach does not exist."},
        {R"({"event": "hard_bounce", "msg": {"email": "cy@example.com", "bounce_description": "bad_mailbox", "diag": "smtp;550 5.1.1 <cy@example.com>: Recipient address \"rejected\": User unknown"}})",
         "550 5.1.1 <cy@example.com>: Recipient address  \"rejected \": User unknown"},
    };
    const bt::BounceReader reader(classifier());
    for (const auto& c : cases) {
        ASSERT_FALSE(c.json.empty());
        const auto d = reader.diagnoseInput(c.json);
        EXPECT_FALSE(d.email);
        EXPECT_EQ(d.diagnosis.replyText.find_first_of("{}"), std::string::npos) << d.diagnosis.replyText;
        if (!c.reply.empty()) {
            EXPECT_EQ(d.diagnosis.replyText, c.reply);
        }
        EXPECT_NE(d.diagnosis.family, "unknown") << c.json;
        for (const auto& e : d.diagnosis.evidence)
            EXPECT_EQ(c.json.substr(d.replyOffset + e.start, e.end - e.start),
                      d.diagnosis.replyText.substr(e.start, e.end - e.start))
                << c.json;
        // A line of an export piped into diagnose --lines reads the same.
        EXPECT_EQ(classifier()->diagnoseText(c.json).replyText, d.diagnosis.replyText);
    }
    // JSON that names no reply field is read as text.
    EXPECT_FALSE(bt::jsonEventReply(R"({"email": "bob@example.net", "event": "open"})").has_value());
    EXPECT_FALSE(bt::jsonEventReply("550 5.1.1 {not json} user unknown").has_value());
}

TEST(Reader, AJsonEventsUnicodeEscapesAreReadAsTheCharactersTheyStandFor)
{
    // Many exports escape every non-ASCII character ("\u30e6"): the words must be whole again,
    // surrogate pairs included, for the lexicons of other languages to read them.
    const bt::BounceReader reader(classifier());
    const auto japanese = reader.diagnoseInput(
        R"({"email":"bob@example.net","event":"bounce","reason":"550 \u5b9b\u5148\u306e\u30e1\u30fc\u30eb\u30a2\u30c9\u30ec\u30b9\u306f\u5b58\u5728\u3057\u307e\u305b\u3093"})");
    EXPECT_EQ(japanese.diagnosis.replyText, "550 宛先のメールアドレスは存在しません");
    EXPECT_EQ(japanese.diagnosis.reason, "userunknown");
    const auto emoji
        = reader.diagnoseInput(R"({"reason":"550 5.7.1 \ud83d\ude00 Message rejected as spam, d\u00e9sol\u00e9"})");
    EXPECT_EQ(emoji.diagnosis.replyText, "550 5.7.1 😀 Message rejected as spam, désolé");
    EXPECT_EQ(emoji.diagnosis.reason, "spamdetected");
    // An escape that is not one (no four hex digits) stays as the text it is.
    const auto broken = reader.diagnoseInput(R"({"reason":"550 5.1.1 user \uZZ unknown"})");
    EXPECT_EQ(broken.diagnosis.reason, "userunknown");
}

TEST(Reader, AModuleThatReadsNothingGivesWayToOneThatReadsTheReply)
{
    // Exim's opening words, but the reply stands outside Exim's indented block: the Exim module
    // recognises the format and reads no reply; the generic reader finds it for the same address.
    const auto records = readMail(R"(From: Mail Delivery System <Mailer-Daemon@mx1.sender.example>
To: alice@sender.example
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  zed@example.org

Reason given by the remote server:
550 5.2.1 <zed@example.org>: Mailbox disabled for this recipient
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "zed@example.org");
    EXPECT_EQ(records[0].basicCode, 550);
    EXPECT_EQ(records[0].enhancedCode, "5.2.1");
}

TEST(Reader, GenericListingGivesEachRecipientItsOwnReply)
{
    const auto records = readMail(R"(From: MAILER-DAEMON@relay.example
To: alice@sender.example
Subject: Undelivered Mail

The following recipients could not be reached:

  ed@one.example ... 550 5.1.1 User unknown
  fay@two.example ... 452 4.2.2 Mailbox full

    Recipient: <dora@remote.example>
    Reason:    5.1.1 <dora@remote.example>... User unknown
)");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].replyText, "550 5.1.1 User unknown");
    EXPECT_EQ(records[1].replyText, "452 4.2.2 Mailbox full");
    EXPECT_EQ(records[1].diagnosis.reason, "mailboxfull");
    EXPECT_EQ(records[2].recipient, "dora@remote.example");
    EXPECT_EQ(records[2].replyText, "5.1.1 <dora@remote.example>... User unknown");
}

TEST(Reader, RecipientListedFirstGetsTheReplyGivenLaterUnderItsName)
{
    // Exchange: the recipients are listed, then each reply under the recipient's name again.
    const auto records = readMail(R"(From: postmaster@corp.example
To: alice@sender.example
Subject: Undeliverable: hi
Content-Type: text/plain; charset=us-ascii

Delivery has failed to these recipients or groups:

frank@corp.example
The e-mail address you entered couldn't be found.

gina@corp.example
The recipient's mailbox is full and can't accept messages now.

Diagnostic information for administrators:

Generating server: mail.corp.example

frank@corp.example
#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

gina@corp.example
#550 5.2.2 STOREDRV.Deliver; mailbox full ##
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].recipient, "frank@corp.example");
    EXPECT_EQ(records[0].enhancedCode, "5.1.1");
    EXPECT_EQ(records[1].recipient, "gina@corp.example");
    EXPECT_EQ(records[1].enhancedCode, "5.2.2");
    EXPECT_EQ(records[1].diagnosis.reason, "mailboxfull");
}

TEST(Reader, ReportFieldsWithSpaceBeforeTheColonAndWrappedCodes)
{
    // Mimecast writes "Action : failed"; other MTAs wrap a Diagnostic-Code without indenting it.
    const auto records = readMail(R"(From: postmaster@gw.example
To: alice@sender.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: message/delivery-status

Reporting-MTA : dns;gw.example
Action : failed
Status : 5.0.0
Diagnostic-Code : smtp;550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain
Final-Recipient : rfc822;sabatora@example.net

Final-Recipient: rfc822;ulla@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does
550-5.1.1 not exist. Please try double-checking the recipient's email
550 5.1.1 address for typos or unnecessary spaces. https://support.example/?p=NoSuchUser

--B1--
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].recipient, "sabatora@example.net");
    EXPECT_EQ(records[0].basicCode, 550);
    EXPECT_EQ(records[1].recipient, "ulla@example.net");
    EXPECT_NE(records[1].replyText.find("unnecessary spaces"), std::string::npos) << records[1].replyText;
}

TEST(Reader, QmailMultiLineReplyAndDoubleCarriageReturnsStayOneReply)
{
    // qmail prints "Remote host said: " before the first line of a "550-…" reply; a gateway that
    // converted CRLF twice leaves CR CR LF, which must not split the reply with blank lines.
    std::string mail = R"(From: MAILER-DAEMON@mx.sender.example
To: alice@sender.example
Subject: failure notice

Hi. This is the qmail-send program at mx.sender.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<yan@gmail.example>:
192.0.2.27 does not like recipient.
Remote host said: 550-5.7.26 Unauthenticated email from example.jp is not accepted due to domain's
550-5.7.26 DMARC policy. Please contact the administrator of example.jp domain if
550 5.7.26 this was a legitimate mail. - gsmtp
Giving up on 192.0.2.27.
)";
    for (const auto& bytes : {mail, [&] {
                                  std::string crcr;
                                  for (char c : mail)
                                      crcr += c == '\n' ? std::string("\r\r\n") : std::string(1, c);
                                  return crcr;
                              }()}) {
        const auto records = readMail(bytes);
        ASSERT_EQ(records.size(), 1u);
        EXPECT_NE(records[0].replyText.find("this was a legitimate mail"), std::string::npos) << records[0].replyText;
        EXPECT_EQ(records[0].basicCode, 550);
        EXPECT_EQ(records[0].enhancedCode, "5.7.26");
    }
}

TEST(Reader, WrappedReplyStopsAtTheListingsNextField)
{
    const auto records = readMail(R"(From: Internet Mail Delivery <postmaster@ms.example>
To: alice@sender.example
Subject: Delivery Notification: Delivery has failed

Your message cannot be delivered to the following recipients:

  Recipient address: ned@ms.example
  Reason: Remote SMTP server has rejected address
  Diagnostic code: smtp;550 5.1.1 <ned@ms.example>... User Unknown
  Remote system: dns;mx.ms.example (TCP|192.0.2.1|25) (mx.ms.example ESMTP)
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].replyText, "550 5.1.1 <ned@ms.example>... User Unknown");
}

TEST(Reader, BouncesOfMtasNoModuleKnows)
{
    // The shapes of MTAs without a module of their own (hMailServer, MDaemon, Kerio, a French and
    // a Spanish Exchange, OpenSMTPD, Courier, GMX, IMail-like): the generic reader finds the failed
    // address and the server's reply, and nothing else.
    struct Case {
        const char* mail;
        const char* recipient;
        std::optional<int> code;
        const char* status;
    };
    const Case cases[] = {
        {R"(From: postmaster@mail.sender.example
To: alice@sender.example
Subject: Message undeliverable: hi
Date: Tue, 01 Oct 2024 10:00:00 +0000

Your message did not reach some or all of the intended recipients.

   Sent: Tue, 01 Oct 2024 09:00:00 +0000
   Subject: hi

The following recipient(s) could not be reached:

jim@remote.example
   Error Type: SMTP
   Remote server (192.0.2.3) issued an error.
   hMailServer sent: RCPT TO:<jim@remote.example>
   Remote server replied: 550 5.1.1 <jim@remote.example>: Recipient address rejected: User unknown in virtual mailbox table
)",
         "jim@remote.example", 550, "5.1.1"},
        {R"(From: MDaemon@sender.example
To: alice@sender.example
Subject: Permanent Delivery Failure
Date: Tue, 01 Oct 2024 10:00:00 +0000

The attached message had PERMANENT fatal delivery errors!

After one or more unsuccessful delivery attempts the attached message has
been removed from the mail queue on this server.

--- Session Transcript ---
 Tue 2024-10-01 10:00:00: Parsing message <ab@sender.example>
 Tue 2024-10-01 10:00:00: *  From: alice@sender.example
 Tue 2024-10-01 10:00:00: *  To: lou@remote.example
 Tue 2024-10-01 10:00:00: *  Subject: hi
 Tue 2024-10-01 10:00:01: Attempting SMTP connection to [remote.example]
 Tue 2024-10-01 10:00:01: --> RCPT To:<lou@remote.example>
 Tue 2024-10-01 10:00:01: <-- 550 5.1.1 <lou@remote.example>: Recipient address rejected: User unknown
--- End Transcript ---
)",
         "lou@remote.example", 550, "5.1.1"},
        {R"(From: Mail Delivery Subsystem <postmaster@sender.example>
To: alice@sender.example
Subject: Undelivered mail: hi
Date: Tue, 01 Oct 2024 10:00:00 +0000

Your message did not reach some or all of the intended recipients.

   Subject: hi
   Sent: 01/10/2024 09:00

The following recipient(s) could not be reached:

    mo@remote.example on 01/10/2024 10:00
         Remote server replied: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org
)",
         "mo@remote.example", 554, "5.7.1"},
        {R"(From: postmaster@entreprise.example
To: alice@sender.example
Subject: Non remis : hi
Content-Type: text/plain; charset=utf-8

Votre message n'a pas pu être remis aux destinataires ou groupes suivants :

amelie@entreprise.example
Le destinataire n'a pas été trouvé.

Informations de diagnostic pour les administrateurs :

Serveur de génération : EX01.entreprise.example

amelie@entreprise.example
Le serveur distant a retourné « 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup »
)",
         "amelie@entreprise.example", 550, "5.1.10"},
        {R"(From: postmaster@empresa.example
To: alice@sender.example
Subject: No se puede entregar: hi
Content-Type: text/plain; charset=utf-8

No se pudo entregar el mensaje a estos destinatarios o grupos:

bruno@empresa.example
El buzón del destinatario está lleno y no puede aceptar mensajes en este momento.

Información de diagnóstico para administradores:

bruno@empresa.example
El servidor remoto devolvió '552 5.2.2 mailbox full'
)",
         "bruno@empresa.example", 552, "5.2.2"},
        {R"(From: MAILER-DAEMON@smtpd.example (Mail Delivery System)
To: alice@sender.example
Subject: Delivery status notification: error

Hi!

This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

An error has occurred while attempting to deliver a message for
the following list of recipients:

kim@example.com: 550 5.1.1 <kim@example.com>: Recipient address rejected: User unknown in local recipient table

Below is a copy of the original message:

Received: from localhost (localhost [127.0.0.1])
	by smtpd.example (OpenSMTPD) with ESMTPA id 1a2b3c4d
	for <kim@example.com>;
From: alice@sender.example
To: kim@example.com
Message-ID: <m1@sender.example>
Subject: hi
)",
         "kim@example.com", 550, "5.1.1"},
        {R"(From: Courier mail server at mx.sender.example <@>
To: alice@sender.example
Subject: NOTICE: mail delivery status.

This is a delivery status notification from mx.sender.example,
running the Courier mail server, version 0.65.2.

The original message was received on Sat, 11 Dec 2010 12:19:57 +0900
from [127.0.0.1] (c10920.sender.example [192.0.2.20])

---------------------------------------------------------------------------

                           UNDELIVERABLE MAIL

Your message to the following recipients cannot be delivered:

<lee@example.co.jp>:
    mx.example.co.jp [192.0.2.95]:
>>> RCPT TO:<lee@example.co.jp>
<<< 550 5.1.1 <lee@example.co.jp>... User Unknown

---------------------------------------------------------------------------
)",
         "lee@example.co.jp", 550, "5.1.1"},
        {R"(From: "Mail Delivery System" <mailer-daemon@gmx.example>
To: alice@sender.example
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of
its recipients. This is a permanent error. The following address
failed:

"max@example.jp":
SMTP error from remote server after RCPT command:
host: mx.example.jp
5.1.1 <max@example.jp>... User Unknown

--- The header of the original message is following. ---

Received: from x by y
Message-ID: <g1@sender.example>
From: alice@sender.example
To: max@example.jp
)",
         "max@example.jp", std::nullopt, "5.1.1"},
        {R"(From: postmaster@relay.example
To: alice@sender.example
Subject: Undeliverable Mail
Date: Tue, 01 Oct 2024 10:00:00 +0000

Delivery to the following recipient(s) failed:

oscar@remote.example
    Diagnostic information for administrators:
    Remote Server returned '550 5.7.1 Unable to relay'
)",
         "oscar@remote.example", 550, "5.7.1"},
    };
    for (const auto& c : cases) {
        const auto records = readMail(c.mail);
        ASSERT_EQ(records.size(), 1u) << c.recipient;
        EXPECT_EQ(records[0].recipient, c.recipient);
        EXPECT_EQ(records[0].basicCode, c.code) << c.recipient;
        EXPECT_EQ(records[0].enhancedCode, c.status) << c.recipient;
        EXPECT_NE(records[0].diagnosis.reason, "undefined") << c.recipient;
    }
}

TEST(Reader, WhatOtherShapesOfBounceSayAboutWhoFailedAndWhy)
{
    // Shapes found by bounce emails helpers wrote from their knowledge of the servers (not from
    // the corpus). A session transcript's success replies are not the failure, even when the
    // refusal comes far below them (MDaemon)…
    const auto mdaemon = readMail(R"(From: MDaemon@sender.example
To: alice@sender.example
Subject: Permanent Delivery Failure
Date: Tue, 01 Oct 2024 10:00:00 +0000

The attached message had PERMANENT fatal delivery errors!

--- Session Transcript ---
 Tue 2024-10-01 10:00:00: *  From: alice@sender.example
 Tue 2024-10-01 10:00:00: *  To: lou@remote.example
 Tue 2024-10-01 10:00:01: --> EHLO mail.sender.example
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-00 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-01 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-02 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-03 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-04 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-05 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-06 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-07 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-08 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-09 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-10 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-11 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-12 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-13 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-14 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-15 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-16 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-17 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-18 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-19 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-20 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-21 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-22 with some padding words
 Tue 2024-10-01 10:00:01: <-- 250-EXTENSION-NUMBER-23 with some padding words
 Tue 2024-10-01 10:00:01: --> MAIL From:<alice@sender.example>
 Tue 2024-10-01 10:00:01: <-- 250 2.1.0 Ok
 Tue 2024-10-01 10:00:01: --> RCPT To:<lou@remote.example>
 Tue 2024-10-01 10:00:01: <-- 554 5.7.1 <lou@remote.example>: Relay access denied
 Tue 2024-10-01 10:00:01: --> QUIT
--- End Transcript ---
)");
    ASSERT_EQ(mdaemon.size(), 1u);
    EXPECT_EQ(mdaemon[0].enhancedCode, "5.7.1");
    EXPECT_EQ(mdaemon[0].diagnosis.reason, "norelaying");
    // …the original's sender quoted in another recipient's reply is the refused sender, not a
    // failed recipient (GroupWise)…
    const auto groupwise = readMail(R"(From: Mail Delivery System <postmaster@gw.sender.example>
To: m.fischer@sender.example
Subject: Undeliverable: Report

Message status - undeliverable

The message that you sent was undeliverable to the following:
	klaus@remote.example (550 5.1.1 <klaus@remote.example>: Recipient address rejected: User unknown)
	info@other.example (553 5.7.1 <m.fischer@sender.example>: Sender address rejected: Access denied)

Possibly truncated original message follows:

From: "Michael Fischer" <m.fischer@sender.example>
To: <klaus@remote.example>
Cc: <info@other.example>
Subject: Report
)");
    ASSERT_EQ(groupwise.size(), 2u);
    EXPECT_EQ(groupwise[1].recipient, "info@other.example");
    EXPECT_EQ(groupwise[1].diagnosis.reason, "rejected");
    // …the postmaster that signs the bounce is its contact, even on a line of its own…
    const auto german = readMail(R"(From: Mailsystem <postmaster@mail.sender.example>
To: yvonne@sender.example
Subject: Unzustellbar: Angebot

Ihre Nachricht konnte an einen Empfaenger nicht zugestellt werden.

  anke@remote.example
    552 5.2.2 Postfach voll (mailbox full)

Bei Fragen wenden Sie sich bitte an
postmaster@mail.sender.example und geben Sie die Kennung 1rwbT2 an.
)");
    ASSERT_EQ(german.size(), 1u);
    EXPECT_EQ(german[0].recipient, "anke@remote.example");
    // …and Domino's own sentence under "X-Notes;" in its delivery report says the user does not
    // exist, as it does in its text-only bounce.
    const auto domino = readMail(R"(From: Postmaster@acme.example
To: peter@sender.example
Subject: DELIVERY FAILURE: User hans (hans@acme.example) not listed in Domino Directory
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message was not delivered to: hans@acme.example

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns;mail01.acme.example

Final-Recipient: rfc822;hans@acme.example
Action: failed
Status: 5.0.0
Diagnostic-Code: X-Notes; User hans (hans@acme.example) not listed in Domino Directory

--b1--
)");
    ASSERT_EQ(domino.size(), 1u);
    EXPECT_EQ(domino[0].diagnosis.reason, "userunknown");
}

// Bounce emails helpers wrote from their knowledge of some sixty servers' formats, given only the
// vocabulary (tests/data/probes/emails: not data, not the corpus). Sets a-d were read for gaps,
// e-h were held out and scored once (2026-12-07: result 100 %, status 95.7 %, reason 88.3 %,
// family 93.6 % of 94 recipients; Debian's Sisimai 4.25 93.6 / 75.5 / 42.6 / 50.0 %). The floors
// keep that level; the writers' own conventions (a delay warning is onhold, ours expired as
// Sisimai reads it) keep a correct reader below 100 %.
TEST(Reader, WrittenBounceEmailsHoldTheirLevel)
{
    const std::filesystem::path root = std::filesystem::path(BT_TEST_DATA) / "probes" / "emails";
    // Floors a little under the level measured when each set was added. Set i's status sits lower:
    // where its bounces state no code, Sisimai's X.0.9xx codes (ours too) stand against the
    // writer's 5.0.0.
    // Set v's other address is a recipient its report gives as delayed, which a delay event
    // reports and the writer left out. Sets w and x sit lower on status: a list's refusal states
    // no code, and Sisimai's X.0.9xx codes (ours too) stand against the writer's 5.0.0. Set y
    // (forwards, aliases and lists, held out) names the alias mailed beside the failed address.
    // Sets z1 (old MTAs) and z3 (less common DSN generators): status low where the writer gave the
    // reply's code and Sisimai's convention (ours too) the report's 5.0.0 or an X.0.9xx code; z3's
    // GroupWise notice names its recipients by local part only (no record, as with Sisimai). Sets
    // z2 and z5 (held out, scored once) and z4 (read): older DSN generators, feedback reports,
    // OpenSMTPD, dma, Gmail, Outlook.com and French providers; z5's status is low for the same
    // reason as z1's.
    struct Floor {
        std::string set;
        double status, reason;
        double result = 95.0;
        std::size_t otherAddresses = 0;
    };
    for (const auto& [set, statusFloor, reasonFloor, resultFloor, otherFloor] : std::vector<Floor> {
             {"a", 85.0, 85.0},          {"b", 85.0, 85.0},          {"c", 85.0, 95.0},        {"d", 85.0, 80.0},
             {"e", 85.0, 92.0},          {"f", 85.0, 75.0},          {"g", 85.0, 85.0},        {"h", 85.0, 83.0},
             {"i", 75.0, 80.0},          {"j", 88.0, 80.0},          {"k", 95.0, 75.0},        {"l", 92.0, 85.0},
             {"m", 85.0, 82.0},          {"n", 95.0, 70.0},          {"o", 95.0, 90.0},        {"p", 95.0, 72.0},
             {"q", 95.0, 75.0},          {"r", 70.0, 90.0},          {"s", 90.0, 90.0},        {"t", 95.0, 80.0},
             {"u", 95.0, 88.0},          {"v", 95.0, 82.0, 95.0, 1}, {"w", 75.0, 95.0},        {"x", 85.0, 95.0},
             {"y", 90.0, 80.0, 95.0, 1}, {"z1", 55.0, 85.0},         {"z3", 70.0, 85.0, 90.0}, {"z4", 90.0, 90.0},
             {"z2", 90.0, 85.0},         {"z5", 70.0, 90.0}}) {
        std::ifstream truth(root / set / "truth.tsv");
        ASSERT_TRUE(truth) << set;
        const auto split = [](const std::string& line) {
            std::vector<std::string> f;
            for (std::size_t a = 0, b; a <= line.size(); a = b + 1) {
                b = std::min(line.find('\t', a), line.size());
                f.push_back(line.substr(a, b - a));
            }
            return f;
        };
        std::string line;
        std::getline(truth, line);
        // Columns by name: a set may add `mailed`, the address the sender wrote to when the bounce
        // names another one (a forward's target) as the failed one.
        const auto header = split(line);
        const auto column = [&](const char* name) {
            const auto at = std::find(header.begin(), header.end(), name);
            return at == header.end() ? header.size() : static_cast<std::size_t>(at - header.begin());
        };
        const auto cFile = column("file"), cRecipient = column("recipient"), cStatus = column("status"),
                   cReason = column("reason"), cMailed = column("mailed");
        std::size_t rows = 0, found = 0, status = 0, reason = 0, extra = 0;
        std::map<std::string, std::vector<bt::BounceRecord>> byFile;
        std::set<std::pair<std::string, std::string>> expected;
        // A record names a truth row when either of its addresses (the failed one, the one mailed)
        // is the row's failed address or its mailed one: writers named a forward's failure by
        // either.
        const auto names = [](const bt::BounceRecord& r, const std::string& address) {
            return !address.empty()
                && (bt::text::toLower(r.recipient) == address || bt::text::toLower(r.originalRecipient) == address);
        };
        while (std::getline(truth, line)) {
            const auto f = split(line);
            if (f.size() <= std::max({cFile, cRecipient, cStatus, cReason}))
                continue;
            const auto& file = f[cFile];
            if (!byFile.contains(file)) {
                std::ifstream in(root / set / file, std::ios::binary);
                byFile[file] = readMail(std::string(std::istreambuf_iterator<char>(in), {}));
            }
            ++rows;
            const auto failed = bt::text::toLower(f[cRecipient]);
            const auto mailed = cMailed < f.size() ? bt::text::toLower(f[cMailed]) : std::string();
            expected.insert({file, failed});
            if (!mailed.empty())
                expected.insert({file, mailed});
            // The failed address first: several rows may share the alias they were mailed as.
            const bt::BounceRecord* match = nullptr;
            for (const auto& address : {failed, mailed})
                for (const auto& r : byFile[file])
                    if (!match && names(r, address))
                        match = &r;
            if (match) {
                ++found;
                status += match->enhancedCode == f[cStatus];
                reason += match->diagnosis.reason == f[cReason];
            }
        }
        for (const auto& [file, records] : byFile)
            for (const auto& r : records)
                extra += !expected.contains({file, bt::text::toLower(r.recipient)})
                    && !expected.contains({file, bt::text::toLower(r.originalRecipient)});
        ASSERT_GT(rows, 10u) << set;
        const auto pct = [&](std::size_t n) { return 100.0 * static_cast<double>(n) / static_cast<double>(rows); };
        std::cout << "written bounce emails " << set << ": " << rows << " recipients, result " << pct(found)
                  << " %, status " << pct(status) << " %, reason " << pct(reason) << " %, other addresses " << extra
                  << "\n";
        EXPECT_GE(pct(found), resultFloor) << set;
        EXPECT_GE(pct(status), statusFloor) << set;
        EXPECT_GE(pct(reason), reasonFloor) << set;
        EXPECT_LE(extra, otherFloor) << set;
    }
}

namespace
{

/// A plain-text delivery report for ned@remote.example with this Status and Diagnostic-Code.
std::string statusReport(const std::string& status, const std::string& reply)
{
    return "From: MAILER-DAEMON@gw.example\nTo: alice@sender.example\nSubject: Delivery Status Notification "
           "(Failure)\nContent-Type: text/plain\n\nReporting-MTA: dns;gw.example\n\nFinal-Recipient: "
           "rfc822;ned@remote.example\nAction: failed\nStatus: "
        + status + "\nDiagnostic-Code: smtp;" + reply + "\n";
}

} // namespace

// "User unknown" words in a report that names no SMTP stage read as a filter's refusal
// (filtered), as Sisimai reads them, unless the status names the recipient's mailbox: X.1.0,
// X.1.1 and X.1.3 in Sisimai's status table, and X.1.10, Microsoft's "RecipientNotFound".
TEST(Reader, WithoutAStageAMailboxStatusKeepsUserUnknownAndAnyOtherReadsAsFiltered)
{
    const std::pair<const char*, const char*> cases[] = {
        {"5.1.0", "userunknown"}, {"5.1.1", "userunknown"}, {"5.1.3", "userunknown"}, {"5.1.10", "userunknown"},
        {"5.0.0", "filtered"},    {"5.2.0", "filtered"},    {"4.1.1", "userunknown"},
    };
    for (const auto& [status, reason] : cases) {
        const auto records = readMail(statusReport(status, std::string("550 Address rejected: user unknown")));
        ASSERT_EQ(records.size(), 1u) << status;
        EXPECT_EQ(records[0].enhancedCode, status);
        EXPECT_EQ(records[0].diagnosis.reason, reason) << status;
    }
}

// The status table that reads "user unknown" under X.1.1 reads a disabled mailbox there the same
// way (rhost-apple-04: "550 5.1.1 …: inactive email address" is userunknown in the corpus), while
// another status keeps the words' suspend, and the reply pasted alone is read by its words.
TEST(Reader, UnderAMailboxStatusADisabledMailboxReadsAsUnknownInABounce)
{
    const std::string reply = "550 <ned@remote.example>: inactive email address";
    const std::pair<const char*, const char*> cases[] = {{"5.1.1", "userunknown"}, {"5.2.1", "suspend"}};
    for (const auto& [status, reason] : cases) {
        const auto records = readMail(statusReport(status, reply));
        ASSERT_EQ(records.size(), 1u) << status;
        EXPECT_EQ(records[0].diagnosis.reason, reason) << status;
    }
    EXPECT_EQ(classifier()->diagnoseText("550 5.1.1 <ned@remote.example>: inactive email address").reason, "suspend");
}

// A queue that gave up (Status 5.4.7) quotes the last attempt's temporary refusal as its
// Diagnostic-Code: the status is the outcome, so it is the record's code; the refusal's words
// still say why the attempts failed.
TEST(Reader, AnExpiryStatusOutranksTheLastDeferralsCode)
{
    const auto records = readMail(statusReport(
        "5.4.7", "451 4.7.650 The mail server [192.0.2.93] has been temporarily rate limited due to IP reputation."));
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].enhancedCode, "5.4.7");
    EXPECT_EQ(records[0].basicCode, 451);
    EXPECT_EQ(records[0].diagnosis.family, "reputation");
    // A permanent refusal's own code still wins over a vaguer status.
    EXPECT_EQ(readMail(statusReport("5.0.0", "550 5.1.1 User unknown")).at(0).enhancedCode, "5.1.1");
}

// A lone cause word ("too large", a lexicon's kw- concept) is as weak as a model's guess: where
// the report states a status its reply does not carry, the status decides. Postfix's local(8)
// writing a mailbox over its size limit says "File too large" under Status 5.2.2 (mailbox full);
// pasted alone, the words still read as a message too big.
TEST(Reader, AReportsStatusOutweighsALoneCauseWord)
{
    const std::string words = "cannot update mailbox /var/mail/bob for user bob. error writing message: File too large";
    const auto records = readMail(statusReport("5.2.2", words));
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].diagnosis.reason, "mailboxfull");
    EXPECT_EQ(classifier()->diagnoseText(words).reason, "mesgtoobig");
}

// Sendmail writes only the first line of a multi-line reply into the Diagnostic-Code ("550-5.7.1
// … this message is"); its transcript holds the whole reply. The whole reply is read: here it says
// the message is not RFC 5322 compliant, which its first line does not.
TEST(Reader, AMultiLineReplyCutInTheDiagnosticCodeIsReadWholeFromTheTranscript)
{
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@mta.example.org>
To: <news@example.org>
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b3"

--b3

   ----- The following addresses had permanent fatal errors -----
<lopez@example.com>
    (reason: 550-5.7.1 [198.51.100.9      12] Our system has detected that this message is)

   ----- Transcript of session follows -----
... while talking to aspmx.l.google.com.:
>>> DATA
<<< 550-5.7.1 [198.51.100.9      12] Our system has detected that this message is
<<< 550-5.7.1 not RFC 5322 compliant:
<<< 550-5.7.1 Multiple 'Subject' headers found.
<<< 550 5.7.1 Please review RFC 5322 specifications for more information. - gsmtp
554 5.0.0 Service unavailable

--b3
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org

Final-Recipient: RFC822; lopez@example.com
Action: failed
Status: 5.7.1
Diagnostic-Code: SMTP; 550-5.7.1 [198.51.100.9      12] Our system has detected that this message is

--b3--
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_NE(records[0].diagnosis.replyText.find("not RFC 5322 compliant"), std::string::npos)
        << records[0].diagnosis.replyText;
    EXPECT_EQ(records[0].diagnosis.reason, "notcompliantrfc");
}

// An NDR that restates the returned message's header fields ("To: a@x, b@y") above its
// recipients, then gives each under a label ("Recipient address: …"): a recipient without a
// Diagnostic-Code reads its own block, not the next recipient's reply (Messaging Server).
TEST(Reader, ARecipientWithoutReplyDoesNotTakeTheNextLabelledRecipientsReply)
{
    const auto records = readMail(R"(From: Internet Mail Delivery <postmaster@ms.sender.example>
To: ann@sender.example
Subject: Delivery Notification: Delivery has failed
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This report relates to a message you sent with the following header fields:

  To: kai@nowhere.example, lin@remote.example
  Subject: Notes

Your message cannot be delivered to the following recipients:

  Recipient address: kai@nowhere.example
  Reason: Illegal host/domain name found

  Recipient address: lin@remote.example
  Reason: Remote SMTP server has rejected address
  Diagnostic code: smtp;552 5.2.2 <lin@remote.example>... Mailbox full

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns;ms.sender.example

Action: failed
Status: 5.1.2 (Illegal host/domain name found)
Final-recipient: rfc822;kai@nowhere.example

Action: failed
Status: 5.2.2 (Remote SMTP server has rejected address)
Diagnostic-code: smtp;552 5.2.2 <lin@remote.example>... Mailbox full
Final-recipient: rfc822;lin@remote.example

--B1--
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].recipient, "kai@nowhere.example");
    EXPECT_EQ(records[0].replyText.find("Mailbox full"), std::string::npos) << records[0].replyText;
    EXPECT_EQ(records[0].diagnosis.reason, "hostunknown");
    EXPECT_EQ(records[1].diagnosis.reason, "mailboxfull");
}

// One reply stated above a list of the addresses it refused (MailMarshal's "Could not be
// delivered because of … The following recipients were affected:"): every listed address has it.
TEST(Reader, AReplyStatedAboveAListOfAddressesIsEachOnes)
{
    const auto records = readMail(R"(From: postmaster@relay.sender.example
To: ann@sender.example
Subject: Undeliverable Mail: "Offer"

Your message:
   From:    ann@sender.example
   Subject: Offer

Could not be delivered because of

550 5.7.1 Message rejected as spam by Content Filtering.

The following recipients were affected:
    kai@remote.example
    lin@remote.example
)");
    ASSERT_EQ(records.size(), 2u);
    for (const auto& r : records) {
        EXPECT_EQ(r.replyText, "550 5.7.1 Message rejected as spam by Content Filtering.") << r.recipient;
        EXPECT_EQ(r.diagnosis.reason, "spamdetected") << r.recipient;
    }
}

// IMail's own verdict before an address: "Delivery failed 3 attempts" is retries run out.
TEST(Reader, ImailsDeliveryFailedAfterItsAttemptsIsAnExpiry)
{
    const auto records = readMail(R"(From: postmaster@mail.sender.example
To: ann@sender.example
Subject: Undeliverable Mail
X-Mailer: <SMTP32 v8.22>

Unknown user: kai@sender.example

Delivery failed 3 attempts: lin@remote.example

Original message follows.
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].diagnosis.reason, "userunknown");
    EXPECT_EQ(records[1].recipient, "lin@remote.example");
    EXPECT_EQ(records[1].diagnosis.reason, "expired");
}

// A relay or mail service that passes on the delivery report it got for its user's message,
// attached to a notice of its own that reports nothing itself: the attached report is the bounce.
TEST(Reader, AReportARelayPassesOnIsReadInItsNoticesPlace)
{
    const auto records = readMail(R"(From: Mail Relay Service <postmaster@relay.example>
To: billing@sender.example
Subject: Fwd: Undelivered Mail Returned to Sender
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUT"

--OUT
Content-Type: text/plain

A delivery status notification was returned to our bounce address for a message you sent
through your relay account. It is attached below unchanged.

--OUT
Content-Type: message/rfc822

From: MAILER-DAEMON@gw.remote.example (Mail Delivery System)
To: bounce+42@relay.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="IN"

--IN
Content-Type: text/plain

<cfo@remote.example>: host mx.remote.example[192.0.2.4] said: 550 5.7.1 Rejected by
    organization policy (in reply to end of DATA command)

--IN
Content-Type: message/delivery-status

Reporting-MTA: dns; gw.remote.example

Final-Recipient: rfc822; cfo@remote.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Rejected by organization policy

--IN--

--OUT--
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "cfo@remote.example");
    EXPECT_EQ(records[0].enhancedCode, "5.7.1");
    EXPECT_EQ(records[0].diagnosis.reason, "policyviolation");
}

// Sendmail's "Diagnostic-Code: X-Unix; 1" for a pipe an alias expanded to: the transcript line
// that names the mailer's failure is the recipient's, not the first reply of another recipient.
TEST(Reader, ALocalProgramsFailureTakesTheMailerLineOfTheTranscript)
{
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@relay.sender.example>
To: ann@sender.example
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B

   ----- The following addresses had permanent fatal errors -----
<tom@remote.example>
    (reason: 550 5.1.1 <tom@remote.example>... User unknown)
"|/usr/local/bin/ticketd"
    (expanded from: <support@sender.example>)

   ----- Transcript of session follows -----
... while talking to mx.remote.example.:
>>> RCPT To:<tom@remote.example>
<<< 550 5.1.1 <tom@remote.example>... User unknown
550 5.1.1 <tom@remote.example>... User unknown
554 5.3.0 |/usr/local/bin/ticketd... unknown mailer error 1

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.sender.example

Final-Recipient: RFC822; tom@remote.example
Action: failed
Status: 5.1.1
Diagnostic-Code: SMTP; 550 5.1.1 <tom@remote.example>... User unknown

Final-Recipient: RFC822; support@sender.example
X-Actual-Recipient: X-Unix; |/usr/local/bin/ticketd
Action: failed
Status: 5.3.0
Diagnostic-Code: X-Unix; 1

--B--
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].recipient, "support@sender.example");
    EXPECT_EQ(records[1].replyText, "554 5.3.0 |/usr/local/bin/ticketd... unknown mailer error 1");
    EXPECT_EQ(records[1].diagnosis.reason, "mailererror");
}

// Sendmail lists an expanded alias under the address it expanded to, its reason between them
// ("<final@x> (reason: 550 Host unknown) (expanded from: <alias@y>)"): the alias's reply is the
// one above its "expanded from" line, whole, and not another entry's.
TEST(Reader, AnExpandedAliasTakesTheReasonAboveItsExpandedFromLine)
{
    const auto records = readMail(R"(From: Mail Delivery Subsystem <MAILER-DAEMON@mail.sender.example>
To: frank@sender.example
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B

   ----- The following addresses had permanent fatal errors -----
<ghart@remote.example>
    (reason: 554 5.7.1 Spam message rejected)
    (expanded from: <g.hart@sender.example>)
<hwong@old.example>
    (reason: 550 Host unknown)
    (expanded from: <h.wong@sender.example>)

   ----- Transcript of session follows -----
... while talking to mx1.remote.example.:
>>> DATA
<<< 554 5.7.1 Spam message rejected

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.sender.example

Final-Recipient: RFC822; g.hart@sender.example
Action: failed
Status: 5.7.1
Diagnostic-Code: SMTP; 554 5.7.1 Spam message rejected

Final-Recipient: RFC822; h.wong@sender.example
Action: failed
Status: 5.1.2

--B--
)");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].recipient, "h.wong@sender.example");
    EXPECT_EQ(records[1].replyText, "550 Host unknown");
    EXPECT_EQ(records[1].diagnosis.reason, "hostunknown");
    // Sendmail's report names the alias the sender mailed as the recipient itself.
    EXPECT_EQ(records[1].originalRecipient, "");
}

// A list manager's refusal of a post is marked auto-replied like an out-of-office, but its subject
// says it refused: it is no auto-reply of a delivered message.
TEST(Reader, AListManagersRefusalMarkedAutoRepliedIsNoAutoReply)
{
    const auto result = bt::BounceReader(classifier()).read(R"(From: SYMPA <sympa@lists.example>
To: omar@sender.example
Subject: Message distribution: Authorization denied
Auto-Submitted: auto-replied

Your message for list 'seminar' was rejected.
You are not a subscriber of list seminar@lists.example; only subscribers may post.
)");
    for (const auto& r : result.records)
        EXPECT_NE(r.diagnosis.reason, "vacation") << r.recipient;
    // The list refused the post: the list's address is the recipient that failed.
    ASSERT_EQ(result.records.size(), 1u);
    EXPECT_EQ(result.records[0].format, "listmanager");
    EXPECT_EQ(result.records[0].recipient, "seminar@lists.example");
    EXPECT_EQ(result.records[0].diagnosis.reason, "rejected");
}

// Mailman, Sympa and LISTSERV refuse a post with a notice of their own and no delivery report:
// the list's address failed, for the reason the notice gives (a poster the list does not take,
// a post over its size limit). A hold for moderation is no refusal.
TEST(Reader, AListManagersRefusalOfAPostIsABounceOfTheListAddress)
{
    struct Refusal {
        const char* manager;
        std::string message;
        const char* list;
        const char* reason;
    };
    const std::vector<Refusal> refusals {
        {"Mailman 3", R"(From: board-owner@lists.club.example
To: maria@sender.example
Subject: Q3 budget draft
Sender: "Board" <board-bounces@lists.club.example>
List-Id: <board.lists.club.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MM"

--MM
Content-Type: text/plain; charset="us-ascii"

Your message to the Board mailing-list was rejected for the following
reasons:

The message is not from a list member

The original message as received by Mailman is attached.

--MM
Content-Type: message/rfc822

From: Maria <maria@sender.example>
To: board@lists.club.example
Subject: Q3 budget draft

Draft attached.
--MM--
)",
         "board@lists.club.example", "rejected"},
        // Marked auto-replied, like an out-of-office.
        {"Sympa", R"(From: SYMPA <sympa@lists.uni.example>
To: thao@sender.example
Subject: Message distribution: too large
Auto-Submitted: auto-replied

Your message for list "research-staff" has been rejected.
It could not be distributed because its size (9174312 bytes) exceeds the maximum size
(5242880 bytes) allowed on this list.
)",
         "research-staff@lists.uni.example", "mesgtoobig"},
        {"LISTSERV", R"MSG(From: "L-Soft list server at LISTSERV.UNI.EXAMPLE (17.0)" <LISTSERV@LISTSERV.UNI.EXAMPLE>
To: rob@sender.example
Subject: Rejected posting to HIST-NET@LISTSERV.UNI.EXAMPLE

You are not authorized to send mail to the HIST-NET list from your
rob@SENDER.EXAMPLE account.
)MSG",
         "hist-net@listserv.uni.example", "rejected"},
        // An automatic refusal, from the list's owner address.
        {"Mailman 2", R"(From: volunteers-owner@lists.club.example
To: paul@sender.example
Subject: Shift swap for Saturday?
Sender: "Volunteers" <volunteers-bounces@lists.club.example>

You are not allowed to post to this mailing list, and your message has
been automatically rejected.  If you think that your messages are
being rejected in error, contact the mailing list owner at
volunteers-owner@lists.club.example.
)",
         "volunteers@lists.club.example", "rejected"},
        // The content filter names the list only in its words: the list is the returned post's
        // address the notice names, and the post's own words ("too large") are not the notice's.
        {"LISTSERV content filter",
         R"MSG(From: "L-Soft list server at LISTS.UNI.EXAMPLE (1.8e)" <LISTSERV@LISTS.UNI.EXAMPLE>
To: andrei@sender.example
Subject: Message ("Your message dated Tue, 10 Jun 2008 16:14:22...")

Your message dated Tue, 10 Jun 2008 16:14:22 +0300 with subject "Hotel rates"
has been rejected by the content filter of the EURO-ECON list. The following
line of your message matched a rule of the list's content filter:

> Book now - limited offer, 70% discount!

------------------------ Rejected message (9 lines) -------------------------
Message-ID: <484E7E5E.6010203@sender.example>
Date: Tue, 10 Jun 2008 16:14:22 +0300
From: Andrei <andrei@sender.example>
To: EURO-ECON@LISTS.UNI.EXAMPLE
Subject: Hotel rates

The message is far too large to attach.
)MSG",
         "euro-econ@lists.uni.example", "filtered"},
    };
    for (const auto& [manager, message, list, reason] : refusals) {
        const auto result = bt::BounceReader(classifier()).read(message);
        ASSERT_EQ(result.records.size(), 1u) << manager << ": " << result.error;
        EXPECT_EQ(result.records[0].format, "listmanager") << manager;
        EXPECT_EQ(result.records[0].recipient, list) << manager;
        EXPECT_EQ(result.records[0].diagnosis.reason, reason) << manager;
    }

    // Held for the moderator: no list address failed.
    const auto held = bt::BounceReader(classifier()).read(R"(From: board-owner@lists.club.example
To: maria@sender.example
Subject: Your message to Board awaits moderator approval

Your mail to 'Board' with the subject Q3 budget draft is being held until the
list moderator can review it for approval.

The reason it is being held:

    Post by non-member to a members-only mailing list

Either the message will get posted to the list, or you will receive
notification of the moderator's decision.
)");
    for (const auto& r : held.records)
        EXPECT_NE(r.recipient, "board@lists.club.example");
}

// A forward's failure names the address it forwarded to; the sender mailed the alias, the only
// address on its list. The record keeps both: the failed address as the recipient (as the report
// and Sisimai name it) and the alias the text or Original-Recipient gives.
TEST(Reader, AForwardsFailureKeepsTheAddressTheSenderMailed)
{
    // Postfix's text alone (no report part): "<final> (expanded from <alias>): host … said: …".
    const auto postfix = readMail(R"(From: MAILER-DAEMON@relay.university.example (Mail Delivery System)
To: news@sender.example
Subject: Undelivered Mail Returned to Sender

This is the mail system at host relay.university.example.

<j.doe.1987@mailbox.example> (expanded from <j.doe@alumni.university.example>): host
    mx.mailbox.example[192.0.2.20] said: 550 5.1.1 The email account that you
    tried to reach does not exist (in reply to RCPT TO command)

<kim@university.example>: host mx.university.example[192.0.2.21] said: 552
    5.2.2 Mailbox full (in reply to RCPT TO command)
)");
    ASSERT_EQ(postfix.size(), 2u);
    EXPECT_EQ(postfix[0].recipient, "j.doe.1987@mailbox.example");
    EXPECT_EQ(postfix[0].originalRecipient, "j.doe@alumni.university.example");
    EXPECT_EQ(postfix[0].diagnosis.reason, "userunknown");
    EXPECT_EQ(postfix[1].recipient, "kim@university.example");
    EXPECT_EQ(postfix[1].originalRecipient, "") << "mailed as it failed";

    // Exim's "(generated from alias)" under the failed address.
    const auto exim = readMail(R"(From: Mail Delivery System <Mailer-Daemon@mx.club.example>
To: news@sender.example
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: t.nguyen@mailbox.example

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  t.nguyen@mailbox.example
    (generated from info@club.example)
    host mx.mailbox.example [192.0.2.30]
    SMTP error from remote mail server after RCPT TO:<t.nguyen@mailbox.example>:
    552 5.2.2 Mailbox quota exceeded
)");
    ASSERT_EQ(exim.size(), 1u);
    EXPECT_EQ(exim[0].recipient, "t.nguyen@mailbox.example");
    EXPECT_EQ(exim[0].originalRecipient, "info@club.example");

    // A report's Original-Recipient names the alias; one equal to the final address (quoted in
    // one field, bare in the other) names none.
    const auto dsn = readMail(R"(From: MAILER-DAEMON@relay.sender.example
To: news@sender.example
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery to the following recipients failed.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.sender.example

Final-Recipient: rfc822; ruth.b@mailbox.example
Original-Recipient: rfc822;ruth@club.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

Final-Recipient: rfc822; "lee..x"@mailbox.example
Original-Recipient: rfc822;lee..x@mailbox.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B--
)");
    ASSERT_EQ(dsn.size(), 2u);
    EXPECT_EQ(dsn[0].recipient, "ruth.b@mailbox.example");
    EXPECT_EQ(dsn[0].originalRecipient, "ruth@club.example");
    EXPECT_EQ(dsn[1].originalRecipient, "");
}

// A Google Workspace domain's group refuses a post with Google's notice, linking to the domain's
// own help topic and naming "any other Google Group" (no "Google Groups", no groups.google.com),
// beside a delivery report with no Diagnostic-Code: the group refused the post.
TEST(Reader, AWorkspaceDomainsGroupRefusalReadsAsTheGroupsRefusal)
{
    const auto records = readMail(R"(From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: aisha@sender.example
Subject: Delivery Status Notification (Failure)
X-Failed-Recipients: partners@company.example
MIME-Version: 1.0
Content-Type: multipart/report; boundary="G"; report-type=delivery-status

--G
Content-Type: text/plain; charset="UTF-8"

Hello aisha@sender.example,

We're writing to let you know that the group you tried to contact (partners) may not exist, or you may not have permission to post messages to the group. A few more details on why you weren't able to post:

 * You might have spelled or formatted the group name incorrectly.
 * The owner of the group may have removed this group.
 * You may need to join the group before receiving permission to post.
 * This group may not be open to posting.

If you have questions related to this or any other Google Group, visit the Help Center at https://support.google.com/a/company.example/bin/topic.py?topic=25838.

Thanks,

company.example admins

--G
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Wed, 12 Jun 2024 01:03:21 -0700 (PDT)

Final-Recipient: rfc822; partners@company.example
Action: failed
Status: 5.0.0

--G--
)");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].recipient, "partners@company.example");
    EXPECT_EQ(records[0].diagnosis.reason, "rejected");
}

TEST(Reader, EximsOwnWordsNameTheCauseBeforeItsGivingUp)
{
    // Exim's own text for each address: a cause it names ("mailbox is full") is the reason
    // even when it gave up after retrying (the class stays temporary, as Sisimai reads it); a
    // remote reply that Exim's own table reads ("Too many "Received" headers") keeps that
    // reading; Exim 3's "unrouteable mail domain" is an unknown domain.
    const auto r = readMail(eximBounce(R"(  ann@local.example
    mailbox is full: retry timeout exceeded

  ben@typo.example:
    unrouteable mail domain "typo.example"

  cy@remote.example
    SMTP error from remote mail server after end of data:
    host mx.remote.example [192.0.2.40]: 550 Too many "Received" headers - suspected mail loop
)"));
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].diagnosis.reason, "mailboxfull");
    EXPECT_EQ(r[0].enhancedCode.substr(0, 1), "4");
    EXPECT_EQ(r[1].diagnosis.reason, "hostunknown");
    EXPECT_EQ(r[2].diagnosis.reason, "contenterror");
}

TEST(Reader, AnAddressInsideAWebAddressIsNoRecipient)
{
    // MDaemon's transcript quotes the reply whole, with an SPF help link whose query names the
    // sender and the recipient: only the refused recipient is a failed one.
    const auto r = readMail(R"(From: MDaemon@mail.sender.example
To: s.ward@sender.example
Subject: Permanent Delivery Failure

The attached message had PERMANENT fatal delivery errors!

--- Session Transcript ---
 Wed 2011-06-15 09:14:03: --> RCPT To:<h.ng@remote.example>
 Wed 2011-06-15 09:14:04: <-- 550 5.7.1 <h.ng@remote.example>: Recipient address rejected: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=s.ward@sender.example;ip=192.0.2.110;r=h.ng@remote.example
 Wed 2011-06-15 09:14:04: --> QUIT
--- End Transcript ---
)");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].recipient, "h.ng@remote.example");
    EXPECT_EQ(r[0].diagnosis.reason, "authfailure");
}

TEST(Reader, ImailsOwnVerdictsAlsoUnderItsSubjectAlone)
{
    // IMail's "Undeliverable Mail" states its verdict before each address; some of its bounces
    // carry no X-Mailer field.
    const auto r = readMail(R"(From: postmaster@imail.example
To: c.hollis@sender.example
Subject: Undeliverable Mail

Unknown user: g.ramos@imail.example

User mailbox exceeds allowed size: k.brandt@imail.example

Original message follows.
)");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].diagnosis.reason, "userunknown");
    EXPECT_EQ(r[1].diagnosis.reason, "mailboxfull");
    // Each address's evidence is its own line: the other address's full mailbox is no rival
    // reading of this one's.
    EXPECT_EQ(r[0].diagnosis.alternative, "");
}
