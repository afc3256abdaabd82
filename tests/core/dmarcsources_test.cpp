// SPDX-License-Identifier: MIT
// The Sources view's numbers (bt::sourceReport) on the real reports of tests/data/dmarc and on a
// planted case: reports written here for one IP that passes for three days and fails both DKIM
// and SPF on the fourth, the day a SendGrid export holds 5.7.26 bounces from that IP.
#include "dmarcsources.h"
#include "importer.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace
{

namespace fs = std::filesystem;
const fs::path kDmarc = fs::path(BT_TEST_DATA) / "dmarc";

using testsupport::classifier;
using testsupport::TempWorkspace;

void importFile(bt::Workspace& ws, const fs::path& p)
{
    const auto r = bt::importPath(ws, p.string(), classifier());
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_GT(r.counts.imported, 0) << p;
}

const bt::SourceSummary& find(const bt::SourceReport& r, const std::string& ip)
{
    for (const auto& s : r.sources)
        if (s.ip == ip)
            return s;
    static const bt::SourceSummary none;
    ADD_FAILURE() << "no source " << ip;
    return none;
}

/// One day's aggregate report from one receiver: `rows` of (ip, count, dkim, spf) where dkim and
/// spf are the aligned results; the raw auth_results say SPF passed for the ESP's own bounce
/// domain (not aligned) and DKIM as the aligned result.
std::string report(const std::string& id, int day,
                   const std::vector<std::tuple<std::string, int, std::string, std::string>>& rows)
{
    const long begin = 1741046400L + (day - 4) * 86400L; // 2025-03-04 00:00 UTC
    std::string x = "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>google.com</org_name>"
                    "<email>noreply-dmarc-support@google.com</email><report_id>"
        + id + "</report_id><date_range><begin>" + std::to_string(begin) + "</begin><end>"
        + std::to_string(begin + 86399)
        + "</end></date_range></report_metadata><policy_published><domain>"
          "shop.example</domain><adkim>r</adkim><aspf>r</aspf><p>reject</p><sp>reject</sp><pct>100</pct>"
          "</policy_published>";
    for (const auto& [ip, n, dkim, spf] : rows)
        x += "<record><row><source_ip>" + ip + "</source_ip><count>" + std::to_string(n)
            + "</count><policy_evaluated><disposition>" + (dkim == "pass" || spf == "pass" ? "none" : "reject")
            + "</disposition><dkim>" + dkim + "</dkim><spf>" + spf
            + "</spf></policy_evaluated></row><identifiers><header_from>Shop.Example</header_from></identifiers>"
              "<auth_results><dkim><domain>shop.example</domain><selector>s1</selector><result>"
            + dkim
            + "</result></dkim><spf><domain>bounces.esp.example</domain><result>pass</result></spf>"
              "</auth_results></record>";
    return x + "</feedback>\n";
}

struct TempFile {
    fs::path path;
    TempFile(const std::string& name, const std::string& bytes)
        : path(fs::temp_directory_path() / (std::to_string(::getpid()) + "-" + name))
    {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    ~TempFile() { fs::remove(path); }
};

} // namespace

TEST(DmarcSources, RealReportsGivePerIpPassesAlignmentDomainsAndDays)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    for (const char* f : {"google.xml", "outlook.xml", "yahoo.xml", "mailru.xml", "outlook-hotmail.xml"})
        importFile(ws, kDmarc / f);
    const auto r = bt::sourceReport(ws);
    EXPECT_EQ(r.reports, 5);
    ASSERT_EQ(r.sources.size(), 3u);
    EXPECT_EQ(r.sources[0].ip, "1.2.3.4") << "most messages first";

    const auto& good = find(r, "1.2.3.4");
    EXPECT_EQ(good.messages, 5);
    EXPECT_EQ(good.dmarcPass, 5);
    EXPECT_EQ(good.spfPass, 5);
    EXPECT_EQ(good.dkimPass, 5);
    EXPECT_EQ(good.spfAligned, 5);
    EXPECT_EQ(good.dkimAligned, 5);
    EXPECT_EQ(good.failBoth, 0);
    EXPECT_EQ(good.reports, 3);
    EXPECT_EQ(good.firstDay, "2024-03-04");
    EXPECT_EQ(good.lastDay, "2024-03-06");
    EXPECT_EQ(good.fromDomains, (std::vector<std::string> {"foo-bar.io", "random.net", "random.org"}));
    EXPECT_FALSE(good.unverified);
    EXPECT_TRUE(good.drops.empty());
    ASSERT_EQ(good.days.size(), 3u) << "its span without holes";
    EXPECT_EQ(good.days[0].day, "2024-03-04");
    EXPECT_EQ(good.days[1].messages, 0);
    EXPECT_EQ(good.days[2].messages, 4);

    // Mail.Ru saw SPF softfail and no DKIM; Microsoft SPF fail and no DKIM: both unverified.
    const auto& mailru = find(r, "118.41.204.2");
    EXPECT_EQ(mailru.spfPass, 0) << "softfail is no pass";
    EXPECT_EQ(mailru.dkimPass, 0);
    EXPECT_EQ(mailru.failBoth, 1);
    EXPECT_TRUE(mailru.unverified);
    EXPECT_EQ(mailru.fromDomains, (std::vector<std::string> {"foobar.de"}));
    EXPECT_TRUE(find(r, "100.24.188.149").unverified);

    // The daily series covers every day from 4 March to 18 July 2024, holes included.
    ASSERT_EQ(r.days.size(), 137u);
    EXPECT_EQ(r.days.front().day, "2024-03-04");
    EXPECT_EQ(r.days.back().day, "2024-07-18");
    EXPECT_EQ(r.days[2].day, "2024-03-06");
    EXPECT_EQ(r.days[2].messages, 4);
    EXPECT_DOUBLE_EQ(r.days[2].passRate(), 100.0);
    EXPECT_EQ(r.days[1].messages, 0);
    EXPECT_LT(r.days[1].passRate(), 0) << "a day without a report has no rate";
    EXPECT_EQ(r.days[26].day, "2024-03-30");
    EXPECT_DOUBLE_EQ(r.days[26].passRate(), 0.0);
}

TEST(DmarcSources, AnIpFailingBothOnOneDayIsADropAndItsAuthBouncesShareTheDay)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const std::string ip = "203.0.113.5";
    // Days 4-6: DKIM aligned pass, SPF passes for the ESP's domain but is not aligned. Day 7: the
    // DKIM key is gone, both fail. Another IP fails both on its only day (a forger): unverified,
    // but no drop since it has no earlier days.
    std::vector<std::unique_ptr<TempFile>> files;
    for (int day = 4; day <= 6; ++day)
        files.push_back(std::make_unique<TempFile>("ok" + std::to_string(day) + ".xml",
                                                   report("r" + std::to_string(day), day, {{ip, 20, "pass", "fail"}})));
    files.push_back(std::make_unique<TempFile>(
        "bad.xml", report("r7", 7, {{ip, 20, "fail", "fail"}, {"192.0.2.66", 8, "fail", "fail"}})));
    for (const auto& f : files)
        importFile(ws, f->path);
    // SendGrid's bounce export: three 5.7.26 bounces from the IP on day 7, one on day 5 without
    // an IP, and a 5.1.1 (not auth) on day 7.
    TempFile csv("bounces.csv",
                 "created,email,reason,status,ip\n"
                 "2025-03-07 10:00:00,a@gmail.com,\"550 5.7.26 Unauthenticated email from shop.example is not "
                 "accepted due to domain's DMARC policy\",5.7.26,203.0.113.5\n"
                 "2025-03-07 11:00:00,b@gmail.com,\"550 5.7.26 Unauthenticated email from shop.example is not "
                 "accepted due to domain's DMARC policy\",5.7.26,203.0.113.5\n"
                 "2025-03-07 12:00:00,c@gmail.com,\"550 5.7.26 Unauthenticated email from shop.example is not "
                 "accepted due to domain's DMARC policy\",5.7.26,203.0.113.5\n"
                 "2025-03-05 12:00:00,d@gmail.com,\"550 5.7.26 Unauthenticated email from shop.example is not "
                 "accepted due to domain's DMARC policy\",5.7.26,\n"
                 "2025-03-07 12:30:00,e@gmail.com,\"550 5.1.1 <e@gmail.com>: Recipient address rejected: User "
                 "unknown\",5.1.1,203.0.113.5\n");
    importFile(ws, csv.path);

    const auto r = bt::sourceReport(ws);
    ASSERT_EQ(r.sources.size(), 2u);
    const auto& s = find(r, ip);
    EXPECT_EQ(s.messages, 80);
    EXPECT_EQ(s.dmarcPass, 60);
    EXPECT_EQ(s.dkimAligned, 60);
    EXPECT_EQ(s.spfAligned, 0);
    EXPECT_EQ(s.spfPass, 80) << "SPF passed for the ESP's domain every day, aligned or not";
    EXPECT_EQ(s.dkimPass, 60);
    EXPECT_EQ(s.failBoth, 20);
    EXPECT_FALSE(s.unverified) << "one bad day of four is not most of its messages";
    ASSERT_EQ(s.drops.size(), 1u);
    EXPECT_EQ(s.drops[0].day, "2025-03-07");
    EXPECT_DOUBLE_EQ(s.drops[0].rate, 0.0);
    EXPECT_DOUBLE_EQ(s.drops[0].earlierRate, 100.0);
    EXPECT_EQ(s.fromDomains, std::vector<std::string> {"shop.example"}) << "From domains are lower-cased";
    ASSERT_EQ(s.days.size(), 4u);
    EXPECT_EQ(s.days[3].authBounces, 3) << "the 5.7.26 bounces of that IP that day; the 5.1.1 is no auth bounce";
    EXPECT_EQ(s.days[1].authBounces, 0) << "the day-5 bounce names no IP";

    const auto& forger = find(r, "192.0.2.66");
    EXPECT_TRUE(forger.unverified);
    EXPECT_TRUE(forger.drops.empty());

    ASSERT_EQ(r.days.size(), 4u);
    EXPECT_EQ(r.days[1].authBounces, 1) << "all sources: every auth bounce of the day, IP or not";
    EXPECT_EQ(r.days[3].authBounces, 3);
    EXPECT_EQ(r.days[3].messages, 28);
    EXPECT_DOUBLE_EQ(r.days[3].passRate(), 0.0);
    EXPECT_DOUBLE_EQ(r.days[0].passRate(), 100.0);
}

TEST(DmarcSources, TheDropRuleWantsEnoughMessagesOnBothSidesAndTwentyPoints)
{
    auto day = [](const char* d, std::int64_t n, std::int64_t pass) {
        bt::DmarcDay x;
        x.day = d;
        x.messages = n;
        x.dmarcPass = pass;
        return x;
    };
    // 81 % after 100 %: 19 points, no drop; 79 %: a drop.
    EXPECT_TRUE(bt::passRateDrops({day("2025-01-01", 100, 100), day("2025-01-02", 100, 81)}).empty());
    EXPECT_EQ(bt::passRateDrops({day("2025-01-01", 100, 100), day("2025-01-02", 100, 79)}).size(), 1u);
    // Too few messages that day, or before it: no drop.
    EXPECT_TRUE(bt::passRateDrops({day("2025-01-01", 100, 100), day("2025-01-02", 4, 0)}).empty());
    EXPECT_TRUE(bt::passRateDrops({day("2025-01-01", 9, 9), day("2025-01-02", 50, 0)}).empty());
    // Earlier days pool: 10 + 10 messages at 100 % and 0 % make 50 %; 20 % the next day is a drop.
    const auto d = bt::passRateDrops({day("2025-01-01", 10, 10), day("2025-01-02", 10, 0), day("2025-01-03", 10, 2)});
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].day, "2025-01-02");
    EXPECT_EQ(d[1].day, "2025-01-03");
    EXPECT_DOUBLE_EQ(d[1].earlierRate, 50.0);
}

TEST(DmarcSources, AWorkspaceWithoutReportsHasNoSourcesAndNoDays)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    importFile(ws, fs::path(BT_TEST_DATA) / "sendgrid-bounces.csv");
    const auto r = bt::sourceReport(ws);
    EXPECT_EQ(r.reports, 0);
    EXPECT_TRUE(r.sources.empty());
    EXPECT_TRUE(r.days.empty());
}
