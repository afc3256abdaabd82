// SPDX-License-Identifier: MIT
// The reply shapes below are copied from real bounces in ../shared/corpus and fixtures.
#include "replyparser.h"

#include <gtest/gtest.h>

using bt::findReplies;
using bt::parseReply;
using bt::primaryReply;

TEST(ReplyParser, PlainReplyWithBothCodes)
{
    const auto r = parseReply("550 5.1.1 <kijitora@example.jp>... User Unknown");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_EQ(r.recipient, "kijitora@example.jp");
    EXPECT_EQ(r.text, "550 5.1.1 <kijitora@example.jp>... User Unknown");
}

TEST(ReplyParser, BareBasicCodeHasNoEnhancedCode)
{
    const auto r = parseReply("550");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_TRUE(r.enhancedCode.empty());
}

// La Poste's greeting and its refusal on one line (../shared/fixtures/replies-ambiguous.tsv): the
// refusal's code is the reply's, not the greeting's 220; a delivered reply keeps its own.
TEST(ReplyParser, AGreetingJoinedToARefusalGivesTheRefusalsCode)
{
    const auto r = parseReply("220-laposte 421 4.2.1 Service refuse. Veuillez essayer plus tard.");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 421);
    EXPECT_EQ(r.enhancedCode, "4.2.1");
    const auto data = parseReply("354 Go ahead 554 5.7.1 Message rejected as spam");
    ASSERT_TRUE(data.basicCode);
    EXPECT_EQ(*data.basicCode, 554);
    EXPECT_EQ(data.enhancedCode, "5.7.1");
    const auto ok = parseReply("250 2.0.0 Ok: queued as 4B1C2 (took 550 ms)");
    ASSERT_TRUE(ok.basicCode);
    EXPECT_EQ(*ok.basicCode, 250);
}

TEST(ReplyParser, ACodeThatClosesTheLineKeepsTheWordsBeforeIt)
{
    // Some servers and NDRs put the code last, as a tag: the words before it are the reply.
    for (const std::string text : {"The user does not exist (550)", "User unknown #550",
                                   "mx.example.net [192.0.2.10] black listed by zen.spamhaus.org #525"}) {
        const auto r = primaryReply(text);
        ASSERT_TRUE(r.basicCode) << text;
        EXPECT_EQ(r.text, text);
    }
    // Both codes in a parenthesis of their own, as sending services and dashboards write them
    // ("Spam detected, delivery refused (554 5.7.0)"): the words before it are the reply too.
    const auto both = primaryReply("Spam detected, delivery refused (554 5.7.0)");
    EXPECT_EQ(both.text, "Spam detected, delivery refused (554 5.7.0)");
    EXPECT_EQ(both.enhancedCode, "5.7.0");
    EXPECT_EQ(primaryReply("Mailbox over its storage limit (522 5.2.2)").basicCode, 522);
    // A code with words after it still opens the reply.
    const auto opened = primaryReply("Remote error (550 5.1.1 User unknown)");
    EXPECT_TRUE(opened.text.starts_with("550 5.1.1 User unknown")) << opened.text;
}

// Sendmail lists each failed address with "(reason: …)" under it, and people paste that pair:
// the parenthesis opened before the code closes after the reply and is not the server's. One
// the server's words open and close stays.
TEST(ReplyParser, TheParenthesisAroundASendmailReasonIsNotTheReplys)
{
    EXPECT_EQ(primaryReply("<bob@example.net>\n    (reason: 550 5.1.1 User unknown)").text, "550 5.1.1 User unknown");
    EXPECT_EQ(primaryReply("<bob@example.net>\n    (reason: 550 Host unknown)").text, "550 Host unknown");
    EXPECT_EQ(primaryReply("<bob@example.net>\n    (reason: 554 5.7.1 Rejected (see https://example.net/why))").text,
              "554 5.7.1 Rejected (see https://example.net/why)");
    EXPECT_EQ(primaryReply("Remote error (550 5.1.1 User unknown)").text, "550 5.1.1 User unknown");
}

TEST(ReplyParser, MultiLineReplyAlreadyJoined)
{
    const std::string gmail = "550-5.1.1 The email account that you tried to reach does not exist. Please try "
                              "550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 "
                              "unnecessary spaces. Learn more at 550 5.1.1 "
                              "https://support.google.com/mail/?p=NoSuchUser 00000000000000.000 - gsmtp";
    const auto r = primaryReply(gmail);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_EQ(r.text, gmail); // the exact text is kept
}

TEST(ReplyParser, MultiLineReplyOnSeparateLinesIsJoined)
{
    const auto replies = findReplies("550-5.7.1 [192.0.2.1] Our system has detected that this message is\n"
                                     "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent\n"
                                     "550 5.7.1 to Gmail, this message has been blocked.\n");
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].enhancedCode, "5.7.1");
    EXPECT_NE(replies[0].text.find("likely unsolicited mail"), std::string::npos);
    EXPECT_NE(replies[0].text.find("has been blocked."), std::string::npos);
}

TEST(ReplyParser, EnhancedCodeWithoutBasicCode)
{
    auto r = primaryReply("Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)");
    EXPECT_FALSE(r.basicCode);
    EXPECT_EQ(r.enhancedCode, "5.4.4");
    r = primaryReply("#5.1.0 Address rejected kijitora@example.jp");
    EXPECT_EQ(r.enhancedCode, "5.1.0");
    r = primaryReply("550 sorry, no mailbox here by that name (#5.1.1 - chkusr)");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
}

TEST(ReplyParser, IpAddressesAreNotStatusCodes)
{
    const auto r = parseReply("554 rejected: client 10.5.1.1 listed, see 192.0.2.250");
    EXPECT_EQ(*r.basicCode, 554);
    EXPECT_TRUE(r.enhancedCode.empty());
}

TEST(ReplyParser, CodesAfterAColonLabel)
{
    // Web mailers write "550:" and "ERROR_CODE :5.1.1" (Yahoo, Zoho in ../shared/corpus).
    auto r = parseReply("550: 5.2.2 <mailboxfull@libsisimai.org>... Mailbox Full");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.2.2");
    r = parseReply("550, ERROR_CODE :5.1.1 <kijitora@example.co.jp>... User Unknown");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    // A time, a port or an IPv6 group before or after the colon is none.
    r = parseReply("Delivery failed at 10:5.1 host [2001:db8::250:1]:25");
    EXPECT_FALSE(r.basicCode);
    EXPECT_TRUE(r.enhancedCode.empty());
}

TEST(ReplyParser, ANumberInsideAUrlIsNoCode)
{
    // Gateways end their words with a link to the code's documentation ("…/DOC-1369#451"): the
    // number there is part of the address, and the words before it are the reply.
    auto r
        = primaryReply("Message expired -> Open relay not allowed - https://community.example.com/docs/DOC-1369#451");
    EXPECT_FALSE(r.basicCode);
    EXPECT_NE(r.text.find("Open relay not allowed"), std::string::npos) << r.text;
    r = parseReply("Blocked - see http://www.example.net/bl.shtml?550 for details");
    EXPECT_FALSE(r.basicCode);
    r = parseReply("Rejected, see www.example.com/help/550.html");
    EXPECT_FALSE(r.basicCode);
    // A code before the link still counts, and one after a link's end too.
    r = parseReply("550 5.7.1 Blocked - see https://example.com/docs#451");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    r = primaryReply("see https://example.com/docs: 554 Transaction failed");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 554);
}

TEST(ReplyParser, DiagnosticCodeWithSmtpPrefixAndFolding)
{
    const auto r = primaryReply("Final-Recipient: rfc822; kijitora@example.jp\n"
                                "Action: failed\n"
                                "Status: 5.2.2\n"
                                "Diagnostic-Code: smtp;550 5.2.2 STOREDRV.Deliver: mailbox full. The following\n"
                                "    information should help identify the cause\n");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.2.2");
    EXPECT_EQ(r.text.rfind("550 5.2.2 STOREDRV.Deliver: mailbox full.", 0), 0u);
    EXPECT_NE(r.text.find("information should help"), std::string::npos);
}

TEST(ReplyParser, PostfixSaidKeepsHostIpAndStage)
{
    const auto r = primaryReply("<userunknown@example.co.jp>: host mx.example.co.jp[192.0.2.153] said: 550\n"
                                "    5.1.1 <userunknown@example.co.jp>... User Unknown (in reply to RCPT TO\n"
                                "    command)\n");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_EQ(r.remoteHost, "mx.example.co.jp");
    EXPECT_EQ(r.remoteIp, "192.0.2.153");
    EXPECT_EQ(r.smtpStage, "RCPT TO");
    EXPECT_EQ(r.text, "550 5.1.1 <userunknown@example.co.jp>... User Unknown");
}

TEST(ReplyParser, PostfixEndOfDataStage)
{
    const auto r = primaryReply("host gmail-smtp-in.l.google.com[192.0.2.5] said: 550 5.7.26 Unauthenticated "
                                "email is not accepted (in reply to end of DATA command)");
    EXPECT_EQ(r.smtpStage, "DATA");
    EXPECT_EQ(r.remoteHost, "gmail-smtp-in.l.google.com");
}

TEST(ReplyParser, SendmailsReasonFollowsAnAddressNotAnAnnotation)
{
    // Sendmail: "<addr> (reason: …)" introduces the server's words; a sending service's
    // "profile is suppressed (reason: hard bounce)" is its own note, and the whole is the text.
    EXPECT_EQ(primaryReply("<bob@example.net> (reason: Service unavailable)").text, "Service unavailable");
    EXPECT_EQ(primaryReply("Dropped: profile is suppressed (reason: hard bounce)").text,
              "Dropped: profile is suppressed (reason: hard bounce)");
}

TEST(ReplyParser, AReplyThatQuotesASaidOfItsOwnCheckIsTheOuterReply)
{
    // Postfix's sender verification quotes what the sender's server said; the reply given is
    // the outer one (4.1.7: the sender's address), pasted alone or in a Diagnostic-Code.
    const std::string nested = "450 4.1.7 <alice@example.org>: Sender address rejected: undeliverable address: "
                               "host mx.example.org[198.51.100.7] said: 550 5.1.1 <alice@example.org>: Recipient "
                               "address rejected: User unknown (in reply to RCPT TO command)";
    for (const auto& text : {nested, "Diagnostic-Code: smtp; " + nested, "<<< " + nested, "Reason: " + nested,
                             "The error that the other server returned was: " + nested}) {
        const auto r = primaryReply(text);
        ASSERT_TRUE(r.basicCode) << text;
        EXPECT_EQ(*r.basicCode, 450) << text;
        EXPECT_EQ(r.enhancedCode, "4.1.7") << text;
        EXPECT_NE(r.text.find("Sender address rejected"), std::string::npos) << text;
    }
    // Wrapped by a Postfix of its own, the outer "said:" is still the one read.
    const auto wrapped = primaryReply("host mx.example.net[192.0.2.1] said: " + nested);
    EXPECT_EQ(wrapped.remoteHost, "mx.example.net");
    EXPECT_EQ(wrapped.enhancedCode, "4.1.7");
    // A wrapper inside a wrapper (qmail or a person quoting Postfix): the reply after the last.
    const auto twice = primaryReply("Remote host said: host mx.example.net[192.0.2.1] said: 553 your IP is listed "
                                    "in a blacklist (in reply to RCPT TO command)");
    EXPECT_EQ(twice.text, "553 your IP is listed in a blacklist");
    EXPECT_EQ(twice.remoteHost, "mx.example.net");
    EXPECT_EQ(twice.smtpStage, "RCPT TO");
}

TEST(ReplyParser, PostfixStageWrappedInsideItsParentheses)
{
    // Wrapped at another width, the stage itself breaks: "(in reply to end" / "of DATA command)".
    const auto r
        = primaryReply("    host mx.example.net[192.0.2.1] said: 550 Unknown user bob@example.net (in reply to end\n"
                       "    of DATA\n"
                       "    command)\n");
    EXPECT_EQ(r.smtpStage, "DATA");
    EXPECT_EQ(r.text, "550 Unknown user bob@example.net");
}

TEST(ReplyParser, AReplyInARowOfATabSeparatedExportIsItsField)
{
    // A row copied from a spreadsheet or a TSV export: the reply is the field its code opens.
    // Measured on the development replies put in such a row: 48 of 3 516 changed family while the
    // whole row was read ("bounce" in the event column read as a policy refusal), 15 now (replies
    // with no code, whose field is not found).
    const std::string row = "bob@example.net\t2024-01-01 10:00:00\tbounce\t"
                            "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\tnewsletter-2024-01";
    const auto r = primaryReply(row);
    EXPECT_EQ(r.text, "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown");
    EXPECT_EQ(r.sourceOffset, row.find("550"));
    // A reply written with tabs for spaces is one reply, not fields.
    EXPECT_EQ(primaryReply("550\t5.1.1\tuser\tunknown").text, "550\t5.1.1\tuser\tunknown");
    EXPECT_EQ(primaryReply("550\t5.1.1\tuser\tunknown").enhancedCode, "5.1.1");
}

TEST(ReplyParser, EximSmtpErrorAfterRcptTo)
{
    const auto r = primaryReply("  kijitora@example.jp\n"
                                "    SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:\n"
                                "    host mx.example.jp [192.0.2.153]: 550 5.1.1 <kijitora@example.jp>... User "
                                "Unknown\n");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_EQ(r.remoteHost, "mx.example.jp");
    EXPECT_EQ(r.remoteIp, "192.0.2.153");
    EXPECT_EQ(r.smtpStage, "RCPT TO");
    EXPECT_EQ(r.text, "550 5.1.1 <kijitora@example.jp>... User Unknown");
}

TEST(ReplyParser, EximAfterMailFromWithSize)
{
    const auto r
        = primaryReply("    SMTP error from remote mail server after MAIL FROM:<shironeko@example.jp> SIZE=1543:\n"
                       "    host mx.example.jp [192.0.2.20]: 550 5.7.0 <shironeko@example.jp>... Please use "
                       "the smtp server of your ISP.\n");
    EXPECT_EQ(r.smtpStage, "MAIL FROM");
    EXPECT_EQ(r.enhancedCode, "5.7.0");
    EXPECT_EQ(r.remoteIp, "192.0.2.20");
}

TEST(ReplyParser, EximsWordsRetoldWithoutTheirColonsStartTheReplyAtItsCode)
{
    // A person's retelling: the address without "RCPT TO:<…>:", then the reply, whose own colons
    // (a URL, an Outlook time stamp) are not the end of the stage.
    const auto r
        = primaryReply("SMTP error from remote mail server after RCPT TO bob@example.com, 550 5.1.1 User "
                       "unknown [BN8NAM12FT047.eop-nam12.prod.protection.outlook.com 2024-01-01T10:00:00.000Z]");
    EXPECT_EQ(r.smtpStage, "RCPT TO");
    ASSERT_TRUE(r.basicCode);
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_TRUE(r.text.starts_with("550 5.1.1 User unknown")) << r.text;
}

TEST(ReplyParser, ADiagnosticTypeWithNoSpaceBeforeTheCodeIsNotTheReplys)
{
    // "smtp;550 …" as DSNs write their Diagnostic-Code, pasted without the field's name.
    for (const char* text : {"smtp;451 4.7.1 Please try again later", "smtp; 451 4.7.1 Please try again later"}) {
        const auto r = primaryReply(text);
        ASSERT_TRUE(r.basicCode) << text;
        EXPECT_EQ(*r.basicCode, 451) << text;
        EXPECT_EQ(r.text, "451 4.7.1 Please try again later") << text;
    }
}

TEST(ReplyParser, ExchangeRemoteServerReturned)
{
    const auto r = primaryReply("Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
    EXPECT_EQ(r.text, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
}

TEST(ReplyParser, ExchangeHashWrappedReply)
{
    const auto r = primaryReply(" #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.text, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
}

TEST(ReplyParser, SendmailTranscriptLine)
{
    const auto r
        = primaryReply("... while talking to mx.example.jp.:\n>>> DATA\n<<< 550 5.1.1 <x@example.jp>... User "
                       "unknown\n550 5.1.1 x@example.jp... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)\n");
    EXPECT_EQ(*r.basicCode, 550);
    EXPECT_EQ(r.enhancedCode, "5.1.1");
}

TEST(ReplyParser, ATranscriptsMultiLineReplyIsJoinedWithoutItsMarkers)
{
    // Courier writes every line of a server's reply behind "<<< ": the lines are one reply.
    const auto r = primaryReply("<m03@example.jp>:\n     [192.0.2.1] [192.0.2.1]:\n >>> RCPT TO:<m03@example.jp>\n"
                                " <<< 452-4.3.2 Mail system is full.\n"
                                " <<< 452 Requested action not taken: insufficient system storage\n");
    EXPECT_EQ(r.text, "452-4.3.2 Mail system is full. 452 Requested action not taken: insufficient system storage");
    EXPECT_EQ(*r.basicCode, 452);
    EXPECT_EQ(r.enhancedCode, "4.3.2");
    // A line that is not behind the marker is no longer the server's, even with the same code.
    const auto s = primaryReply(" <<< 550-5.1.1 Mailbox does not exist\n550 5.1.1 x@example.jp... User unknown\n");
    EXPECT_EQ(s.text, "550-5.1.1 Mailbox does not exist");
}

TEST(ReplyParser, CrLfAndCrLineEndings)
{
    for (const char* eol : {"\r\n", "\r"}) {
        const std::string t
            = std::string("Status: 5.1.1") + eol + "Diagnostic-Code: smtp; 550 5.1.1 User unknown" + eol;
        const auto r = primaryReply(t);
        EXPECT_EQ(r.text, "550 5.1.1 User unknown") << "line end " << (eol[1] ? "CRLF" : "CR");
    }
}

TEST(ReplyParser, NoCodesKeepsWholeText)
{
    const auto r = primaryReply("  Sorry, no mailbox here by that name.  \n");
    EXPECT_FALSE(r.basicCode);
    EXPECT_TRUE(r.enhancedCode.empty());
    EXPECT_EQ(r.text, "Sorry, no mailbox here by that name.");
}

// Without a code, the words after the NDR's own introducer are the reply: the sentence before
// it is the bounce software's framing. sourceOffset says where in the pasted text they start.
TEST(ReplyParser, NoCodesTheWordsAfterTheNdrIntroducerAreTheReply)
{
    const std::string reason = "The following message to <bob@example.net> was undeliverable.\nThe reason for the "
                               "problem: rcpt is rejected\n";
    auto r = primaryReply(reason);
    EXPECT_EQ(r.text, "rcpt is rejected");
    EXPECT_EQ(reason.substr(r.sourceOffset, r.text.size()), r.text);

    r = primaryReply("Technical details of permanent failure: Google tried to deliver your message, but it was "
                     "rejected by the server for the recipient domain example.net by mx.example.net. The error that "
                     "the other server returned was: Mailbox disabled for this recipient");
    EXPECT_EQ(r.text, "Mailbox disabled for this recipient");

    r = primaryReply("Technical details of temporary failure: The recipient server did not accept our requests");
    EXPECT_EQ(r.text, "The recipient server did not accept our requests");

    r = primaryReply("Message not delivered\nThere was a problem delivering your message to bob@example.net. See the "
                     "technical details below.\nThe response was:\nDNS Error: DNS type 'mx' lookup of example.net "
                     "responded with code NXDOMAIN\n");
    EXPECT_EQ(r.text, "DNS Error: DNS type 'mx' lookup of example.net responded with code NXDOMAIN");

    // Sendmail's "(reason: …)" ends at its parenthesis.
    r = primaryReply("<bob@example.net> (reason: Can't create output)");
    EXPECT_EQ(r.text, "Can't create output");

    // An introducer with nothing after it leaves the whole text.
    r = primaryReply("The reason for the problem:");
    EXPECT_EQ(r.text, "The reason for the problem:");

    // A line whose only code is an enhanced one in its middle starts after the introducer too.
    r = primaryReply("The following message was undeliverable. The reason for the problem: 5.1.4 Recipient address "
                     "reserved by RFC 2606");
    EXPECT_EQ(r.enhancedCode, "5.1.4");
    EXPECT_EQ(r.text, "5.1.4 Recipient address reserved by RFC 2606");
}

// A plain reply pasted with Postfix's stage after it: the stage is taken out of the words.
TEST(ReplyParser, APlainReplysStageSuffixIsItsStage)
{
    const auto r = primaryReply("501 5.1.8 Sender address must contain a domain (in reply to RCPT TO command)");
    EXPECT_EQ(r.text, "501 5.1.8 Sender address must contain a domain");
    EXPECT_EQ(r.smtpStage, "RCPT TO");
    EXPECT_EQ(primaryReply("550 5.7.1 Message rejected (in reply to end of DATA command)").smtpStage, "DATA");
}

// A reply wrapped by whatever showed it continues on lines without a code, up to what starts
// something else: a blank line, a report field, the next recipient, another reply.
TEST(ReplyParser, AWrappedReplyKeepsTheWordsAfterTheWrap)
{
    auto r = primaryReply("451 4.3.0 <mail.example.com[192.0.2.10]>: Client host\nrejected: Throttled - Too much "
                          "spam from your mail server.\nTry again later.");
    EXPECT_EQ(r.text,
              "451 4.3.0 <mail.example.com[192.0.2.10]>: Client host rejected: Throttled - Too much spam from "
              "your mail server. Try again later.");
    // A code closing a wrapped paragraph takes the paragraph's first lines with it.
    r = primaryReply("Sorry, I don't accept messages of MIME Content-Type 'text/html'\nor any other markup (#5.2.3)");
    EXPECT_EQ(r.text, "Sorry, I don't accept messages of MIME Content-Type 'text/html' or any other markup (#5.2.3)");
    EXPECT_EQ(r.sourceOffset, 0u);
    // A short line was not wrapped: what follows it is not the reply's.
    EXPECT_EQ(primaryReply("550 5.1.1 User unknown\nThe message was not delivered.").text, "550 5.1.1 User unknown");
    // Unless the next line's first word would not have fitted within the margin the longer lines
    // before it show (a URL after a wrap at 60 columns).
    r = primaryReply("550 DY-001 Mail rejected by Windows Live Hotmail for policy\nreasons. We generally do not "
                     "accept email from dynamic IP's\nas they are not typically used to deliver unauthenticated\nSMTP "
                     "e-mail to an Internet mail server.\nhttp://www.spamhaus.org maintains lists of dynamic and\n"
                     "residential IP addresses.\n\nThe mail system");
    EXPECT_TRUE(r.text.ends_with("maintains lists of dynamic and residential IP addresses.")) << r.text;
    EXPECT_EQ(primaryReply("550 5.7.1 Message rejected as spam by the content filter\nSee\n"
                           "https://postmaster.example.com/very/long/path/to/the/help/page")
                  .text,
              "550 5.7.1 Message rejected as spam by the content filter See "
              "https://postmaster.example.com/very/long/path/to/the/help/page");
    // Nor are a field, the next recipient or qmail's own line.
    const std::string listing = "<bob@example.net>:\n192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 "
                                "<bob@example.net>... User unknown here at all\nGiving up on 192.0.2.1.\n";
    EXPECT_EQ(primaryReply(listing).text, "550 5.1.1 <bob@example.net>... User unknown here at all");
    const auto two
        = findReplies("550 5.2.2 <bob@example.net>... Mailbox full, try again later\n\"carol@example.net\":\n"
                      "550 5.1.1 <carol@example.net>... User unknown");
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0].text, "550 5.2.2 <bob@example.net>... Mailbox full, try again later");
    EXPECT_EQ(primaryReply("550 5.7.1 Message rejected as spam by the content filter\nStatus: 5.7.1\n").text,
              "550 5.7.1 Message rejected as spam by the content filter");
}

// A reply quoted in a colleague's message ("> " on every line) reads as the reply unquoted; its
// offset still points into the quoted text. A transcript's ">>>" lines are not quotes.
TEST(ReplyParser, AQuotedReplyReadsAsTheReply)
{
    const std::string quoted = "> 550 5.7.1 <bob@example.net>: Recipient address rejected:\n> Your MTA is listed "
                               "in too many DNSBLs\n";
    const auto r = primaryReply(quoted);
    EXPECT_EQ(r.text, "550 5.7.1 <bob@example.net>: Recipient address rejected: Your MTA is listed in too many DNSBLs");
    EXPECT_EQ(quoted.substr(r.sourceOffset, 9), "550 5.7.1");
    const auto t = primaryReply(">>> RCPT To:<bob@example.net>\n<<< 550 5.1.1 User unknown\n");
    EXPECT_EQ(t.text, "550 5.1.1 User unknown");
}

// A Postfix log line pasted whole: its status text is the reply, its dsn= the status.
TEST(ReplyParser, APostfixLogLinesStatusTextIsTheReply)
{
    const auto r = primaryReply("Dec  6 10:00:00 mx postfix/smtp[123]: ABCDEF: to=<bob@example.com>, relay=none, "
                                "delay=3, delays=0/0/3/0, dsn=4.4.1, status=deferred (connect to "
                                "mx.example.com[192.0.2.1]:25: Connection timed out)");
    EXPECT_EQ(r.text, "connect to mx.example.com[192.0.2.1]:25: Connection timed out");
    EXPECT_EQ(r.enhancedCode, "4.4.1");
    // With a server's reply in it, the reply and its own codes.
    const auto said
        = primaryReply("postfix/smtp[1]: A1: to=<bob@example.com>, dsn=5.1.1, status=bounced (host "
                       "mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command))");
    EXPECT_EQ(said.text, "550 5.1.1 User unknown");
    EXPECT_EQ(said.smtpStage, "RCPT TO");
}

TEST(ReplyParser, SuccessLinesDoNotHideTheFailure)
{
    const auto r = primaryReply("<<< 250 2.1.0 Sender ok\n<<< 550 5.7.1 Relaying denied\n");
    EXPECT_EQ(*r.basicCode, 550);
}

TEST(ReplyParser, PostfixHostWrappedOntoThePreviousLine)
{
    const auto r
        = primaryReply("<kijitora@google.example.com> (expanded from <contact@example.co.jp>): host\n"
                       "    gmail-smtp-in.l.google.com[192.0.2.27] said: 550-5.7.26 This mail has\n"
                       "    been blocked because the sender is unauthenticated. (in reply to end of DATA command)\n");
    EXPECT_EQ(r.remoteHost, "gmail-smtp-in.l.google.com");
    EXPECT_EQ(r.remoteIp, "192.0.2.27");
    EXPECT_EQ(r.enhancedCode, "5.7.26");
}

TEST(ReplyParser, WholeEnhancedStatusCodes)
{
    for (const char* good : {"5.1.1", "4.7.500", "2.0.0", "5.7.26"})
        EXPECT_TRUE(bt::isEnhancedStatus(good)) << good;
    for (const char* bad : {"", "5.1", "6.1.1", "5.1.1.1", "5.1.1 ", "x.1.1", "5.1.1234"})
        EXPECT_FALSE(bt::isEnhancedStatus(bad)) << bad;
}

TEST(ReplyParser, SenderDomainNamedByTheReply)
{
    // Gmail's SPF line, its DMARC wording and Yahoo's; an IP, an address or a recipient's domain
    // is not a sending domain.
    EXPECT_EQ(bt::senderDomainNamed("550-5.7.26 Authentication results: DKIM = did not pass SPF [Mail.Example.com] "
                                    "with ip: [192.0.2.1] = did not pass"),
              "mail.example.com");
    EXPECT_EQ(bt::senderDomainNamed("550 5.7.26 Unauthenticated email from example.org is not accepted due to "
                                    "domain's DMARC policy."),
              "example.org");
    EXPECT_EQ(bt::senderDomainNamed("554 5.7.9 Message not accepted for policy reasons. Messages from example.net. "
                                    "are not accepted"),
              "example.net");
    EXPECT_EQ(bt::senderDomainNamed("550 Mail from 192.0.2.1 refused"), "");
    EXPECT_EQ(bt::senderDomainNamed("550 mail from bob@example.com refused"), "");
    EXPECT_EQ(bt::senderDomainNamed("550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown"), "");
    EXPECT_EQ(bt::senderDomainNamed(""), "");
}

// A multi-line reply pasted without its first line's code: the words before the first
// continuation code, which stands mid-sentence, are the reply's first line. After a wrapper's
// "said:" or a quote they are not.
TEST(ReplyParser, AMultiLineReplyWhoseFirstCodeWasLostKeepsItsFirstLine)
{
    const std::string pasted = "Message deferred The user you are trying to contact is receiving mail at a rate that "
                               "450-4.2.1 prevents additional messages from being delivered. 450 4.2.1 Try later.";
    const auto r = primaryReply(pasted);
    EXPECT_EQ(r.text.substr(0, 16), "Message deferred");
    EXPECT_EQ(r.sourceOffset, 0u);
    EXPECT_EQ(*r.basicCode, 450);
    EXPECT_EQ(r.enhancedCode, "4.2.1");
    // Its first line may end a sentence before the continuation code.
    EXPECT_EQ(primaryReply("The mailbox is receiving mail too quickly right now. 450-4.2.1 Please try again later.")
                  .sourceOffset,
              0u);
    const auto said = primaryReply("host mx.example.com[192.0.2.1] said: 550-5.7.1 This message is likely "
                                   "suspicious 550 5.7.1 due to its sender.");
    EXPECT_EQ(said.text.substr(0, 9), "550-5.7.1");
    const auto quoted = primaryReply("Remote Server returned '550-5.7.1 Not today 550 5.7.1 go away'");
    EXPECT_EQ(quoted.text.substr(0, 9), "550-5.7.1");
}
