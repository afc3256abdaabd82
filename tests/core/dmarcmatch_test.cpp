// SPDX-License-Identifier: MIT
// A bounce set beside the receivers' DMARC aggregate reports (issue 14, correlation): a planted
// report row failing DKIM on the day of a 5.7.26 bounce from the same IP is found, described in
// words and carried by the event's details; other days, other families and other IPs are not.
#include "dmarcmatch.h"
#include "importer.h"
#include "query.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace
{

using testsupport::classifier;
using testsupport::TempWorkspace;

// Outlook.com's daily report for example.com, 2025-03-11 (tests/data/dmarc-planted, README there):
// 212 messages from 203.0.113.5 with DKIM failing (selector s1) and SPF passing for the ESP's
// bounce domain, so not aligned; 1 000 from 198.51.100.7 passing.
const std::filesystem::path kReport = std::filesystem::path(BT_TEST_DATA) / "dmarc-planted" / "outlook-20250311.xml";

struct Planted {
    TempWorkspace file;
    bt::Workspace ws {file.path.string()};
    std::int64_t authBounce = 0, laterDay = 0, addressBounce = 0, policyNoIp = 0, otherIp = 0;

    Planted()
    {
        const auto r = bt::importPath(ws, kReport.string(), classifier());
        EXPECT_TRUE(r.error.empty()) << r.error;
        EXPECT_EQ(r.counts.imported, 2);

        const auto import = ws.beginImport("planted", 0, "", "postfix_log");
        int n = 0;
        auto add = [&](const char* time, const char* ip, const char* family, const char* reason, const char* reply) {
            bt::Event e;
            e.eventType = "bounce";
            e.timestamp = time;
            e.recipient = "user" + std::to_string(n) + "@outlook.com";
            e.recipientDomain = "outlook.com";
            e.sendingIp = ip;
            e.fromDomain = "example.com";
            e.diagnosis.family = family;
            e.diagnosis.reason = reason;
            e.replyText = reply;
            e.dedupKey = "planted-" + std::to_string(n++);
            EXPECT_EQ(ws.addEvent(import, e), bt::Workspace::Added::Imported);
            return ws.db().lastInsertId();
        };
        const char* unauth = "550 5.7.26 This message does not pass authentication checks (SPF and DKIM both do not "
                             "pass). DKIM check failed.";
        authBounce = add("2025-03-11T14:05:00Z", "203.0.113.5", "auth", "authfailure", unauth);
        laterDay = add("2025-03-13T09:00:00Z", "203.0.113.5", "auth", "authfailure", unauth);
        addressBounce = add("2025-03-11T15:00:00Z", "203.0.113.5", "address", "userunknown", "550 5.1.1 user unknown");
        policyNoIp = add("2025-03-11T16:00:00Z", "", "policy", "policyviolation", "550 5.7.1 denied by policy");
        otherIp = add("2025-03-11T17:00:00Z", "192.0.2.99", "auth", "authfailure", unauth);
    }
};

} // namespace

TEST(DmarcMatch, APlantedFailingRowIsFoundOnTheDayOfTheBounceFromItsIp)
{
    Planted p;
    const auto matches = bt::dmarcForBounce(p.ws, "203.0.113.5", "example.com", "2025-03-11T14:05:00Z");
    ASSERT_EQ(matches.size(), 1u);
    const auto& m = matches.front();
    EXPECT_TRUE(m.byIp);
    EXPECT_EQ(m.orgName, "Outlook.com");
    EXPECT_EQ(m.reportId, "planted-20250311");
    EXPECT_EQ(m.row.count, 212);
    EXPECT_EQ(m.row.dkim, "fail");
    ASSERT_EQ(m.row.auth.size(), 2u);
    EXPECT_EQ(m.row.auth[0].selector, "s1");
    EXPECT_EQ(bt::describeDmarcMatch(m),
              "On 2025-03-11, Outlook.com's report shows 212 messages from 203.0.113.5 (From example.com): DKIM fail "
              "(example.com, selector s1); SPF pass for bounces.esp.example.net but not aligned; DMARC fail, "
              "disposition reject.");

    // The report's last second still counts; the next day, another IP: nothing.
    EXPECT_EQ(bt::dmarcForBounce(p.ws, "203.0.113.5", "", "2025-03-11T23:59:59Z").size(), 1u);
    EXPECT_TRUE(bt::dmarcForBounce(p.ws, "203.0.113.5", "example.com", "2025-03-12T00:00:01Z").empty());
    EXPECT_TRUE(bt::dmarcForBounce(p.ws, "192.0.2.99", "example.com", "2025-03-11T14:05:00Z").empty());
    // No IP: the From domain's rows that day, the failing one first.
    const auto byDomain = bt::dmarcForBounce(p.ws, "", "EXAMPLE.com", "2025-03-11T16:00:00Z");
    ASSERT_EQ(byDomain.size(), 2u);
    EXPECT_FALSE(byDomain[0].byIp);
    EXPECT_EQ(byDomain[0].row.sourceIp, "203.0.113.5");
    EXPECT_EQ(byDomain[1].row.sourceIp, "198.51.100.7");
    EXPECT_EQ(bt::describeDmarcMatch(byDomain[1]),
              "On 2025-03-11, Outlook.com's report shows 1000 messages from 198.51.100.7 (From example.com): DKIM "
              "pass and aligned; SPF pass and aligned; DMARC pass, disposition none.");
}

TEST(DmarcMatch, TheDetailsOfAnAuthOrPolicyBounceCarryTheReportRows)
{
    Planted p;
    const auto auth = bt::eventDetail(p.ws, p.authBounce);
    ASSERT_TRUE(auth);
    ASSERT_EQ(auth->dmarc.size(), 1u);
    EXPECT_EQ(auth->dmarc.front().row.sourceIp, "203.0.113.5");

    const auto policy = bt::eventDetail(p.ws, p.policyNoIp);
    ASSERT_TRUE(policy);
    EXPECT_EQ(policy->dmarc.size(), 2u) << "no IP: the From domain's rows";

    for (const auto id : {p.laterDay, p.addressBounce, p.otherIp}) {
        const auto d = bt::eventDetail(p.ws, id);
        ASSERT_TRUE(d);
        EXPECT_TRUE(d->dmarc.empty()) << "event " << id << " (" << d->row.family << ", " << d->row.timestamp << ")";
    }
}

TEST(DmarcMatch, AMultiDayReportNamesItsSpan)
{
    bt::DmarcMatch m;
    m.orgName = "Yahoo";
    m.begin = "2025-03-08T00:00:00Z";
    m.end = "2025-03-11T00:00:00Z";
    m.row.sourceIp = "203.0.113.5";
    m.row.count = 1;
    m.row.dkim = "fail";
    m.row.spf = "fail";
    EXPECT_EQ(bt::describeDmarcMatch(m),
              "From 2025-03-08 to 2025-03-10, Yahoo's report shows 1 message from "
              "203.0.113.5: DKIM fail (no signature reported); SPF fail; DMARC fail.");
}

// The CLI: `parse --json --workspace` gives an auth bounce e-mail (From example.com, 5.7.26 on
// 2025-03-11) a "dmarc" object with the report rows of its From domain that day, failing first.
TEST(DmarcMatch, ParseWithAWorkspaceCarriesTheRowsInItsJson)
{
    Planted p;
    const auto eml = std::filesystem::temp_directory_path() / ("bt-planted-" + std::to_string(::getpid()) + ".eml");
    std::ofstream(eml, std::ios::binary) << "From: Mail Delivery System <MAILER-DAEMON@outlook.com>\r\n"
                                            "To: news@example.com\r\n"
                                            "Date: Tue, 11 Mar 2025 14:05:00 +0000\r\n"
                                            "Subject: Undeliverable: hello\r\n"
                                            "MIME-Version: 1.0\r\n"
                                            "Content-Type: multipart/report; report-type=delivery-status; "
                                            "boundary=\"b1\"\r\n\r\n"
                                            "--b1\r\nContent-Type: text/plain\r\n\r\nDelivery has failed.\r\n"
                                            "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
                                            "Reporting-MTA: dns; mx.outlook.com\r\n\r\n"
                                            "Final-Recipient: rfc822; bob@outlook.com\r\n"
                                            "Action: failed\r\nStatus: 5.7.26\r\n"
                                            "Diagnostic-Code: smtp; 550 5.7.26 This message does not pass "
                                            "authentication checks (SPF and DKIM both do not pass).\r\n"
                                            "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                                            "From: News <news@example.com>\r\nTo: bob@outlook.com\r\n"
                                            "Subject: hello\r\nMessage-ID: <1@example.com>\r\n"
                                            "--b1--\r\n";
    const auto run = testsupport::shell(std::string(BT_CLI) + " parse --json --workspace '" + p.file.path.string()
                                        + "' '" + eml.string() + "'");
    const auto plain = testsupport::shell(std::string(BT_CLI) + " parse --workspace '" + p.file.path.string() + "' '"
                                          + eml.string() + "'");
    const auto without = testsupport::shell(std::string(BT_CLI) + " parse --json '" + eml.string() + "'");
    std::filesystem::remove(eml);
    ASSERT_EQ(run.exitCode, 0) << run.out;
    const auto j = nlohmann::json::parse(run.out.substr(0, run.out.find('\n')));
    EXPECT_EQ(j["family"], "auth");
    ASSERT_TRUE(j["dmarc"].is_object()) << run.out;
    EXPECT_EQ(j["dmarc"]["matched_on"], "from_domain");
    ASSERT_EQ(j["dmarc"]["rows"].size(), 2u);
    const auto& first = j["dmarc"]["rows"][0];
    EXPECT_EQ(first["source_ip"], "203.0.113.5");
    EXPECT_EQ(first["count"], 212);
    EXPECT_EQ(first["dkim"], "fail");
    EXPECT_EQ(first["auth"][0]["selector"], "s1");
    EXPECT_EQ(first["org_name"], "Outlook.com");
    EXPECT_NE(first["summary"].get<std::string>().find("DKIM fail (example.com, selector s1)"), std::string::npos);
    // The text card says the same; without a workspace there is no "dmarc" key at all.
    EXPECT_NE(plain.out.find("DMARC report: On 2025-03-11, Outlook.com's report shows 212 messages from 203.0.113.5"),
              std::string::npos)
        << plain.out;
    ASSERT_EQ(without.exitCode, 0) << without.out;
    const auto missing = testsupport::shell(std::string(BT_CLI) + " parse --workspace '" + p.file.path.string()
                                            + ".missing' /dev/null");
    EXPECT_EQ(missing.exitCode, 2) << missing.out;
    EXPECT_NE(missing.out.find("--workspace: "), std::string::npos) << missing.out;
    EXPECT_NE(missing.out.find("no such file"), std::string::npos) << missing.out;
    EXPECT_FALSE(nlohmann::json::parse(without.out.substr(0, without.out.find('\n'))).contains("dmarc"));
}

// `report --by ip` joins both sides: each IP's bounces and its messages in the aggregate reports.
TEST(DmarcMatch, AReportBySendingIpCarriesTheReportsNumbers)
{
    Planted p;
    const auto run
        = testsupport::shell(std::string(BT_CLI) + " report --json --by ip --workspace '" + p.file.path.string() + "'");
    ASSERT_EQ(run.exitCode, 0) << run.out;
    std::map<std::string, nlohmann::json> byIp;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) {
            auto j = nlohmann::json::parse(line);
            byIp[j["key"]] = j;
        }
    ASSERT_TRUE(byIp.count("203.0.113.5")) << run.out;
    EXPECT_EQ(byIp["203.0.113.5"]["dmarc"]["messages"], 212);
    EXPECT_EQ(byIp["203.0.113.5"]["dmarc"]["dmarc_pass"], 0);
    ASSERT_TRUE(byIp.count("192.0.2.99")) << run.out;
    EXPECT_TRUE(byIp["192.0.2.99"]["dmarc"].is_null()) << "no report names it";
    const auto text
        = testsupport::shell(std::string(BT_CLI) + " report --by ip --workspace '" + p.file.path.string() + "'");
    EXPECT_NE(text.out.find("0.0% of 212"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("1 more IPs appear in the reports only (1000 messages)"), std::string::npos) << text.out;
    // Other groupings are as before: no "dmarc" key.
    const auto byDomain = testsupport::shell(std::string(BT_CLI) + " report --json --by domain --workspace '"
                                             + p.file.path.string() + "'");
    EXPECT_EQ(byDomain.out.find("\"dmarc\""), std::string::npos) << byDomain.out;
}
