// SPDX-License-Identifier: MIT
// bouncetriage-samplegen: writes realistic, deterministic export files (Amazon SES notifications
// and a Postfix log) for the bundled sample workspace, or a SendGrid-shaped bounce CSV of any
// size for the import benchmark. The sample is then made by importing these files with the
// real importers, so it holds exactly what a user's import would.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace
{

/// A fixed-seed generator: the sample is the same on every machine.
class Random
{
public:
    explicit Random(std::uint64_t seed)
        : m_state(seed)
    {
    }
    std::uint64_t next()
    {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 7;
        m_state ^= m_state << 17;
        return m_state;
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
    bool chance(double p) { return static_cast<double>(next() % 1000000) < p * 1000000.0; }

private:
    std::uint64_t m_state;
};

struct Domain {
    const char* name;
    int weight;
};

// Recipient domains by share of a consumer list, plus two companies behind gateways.
constexpr std::array<Domain, 10> kDomains {{{"gmail.com", 40},
                                            {"outlook.com", 12},
                                            {"hotmail.com", 8},
                                            {"yahoo.com", 12},
                                            {"icloud.com", 7},
                                            {"gmx.de", 5},
                                            {"orange.fr", 4},
                                            {"comcast.net", 4},
                                            {"acme-corp.example", 4},
                                            {"globex.example", 4}}};

// Real reply shapes per failure kind (from the fixture replies and provider documentation).
const char* userUnknown(const std::string& domain)
{
    if (domain == "gmail.com")
        return "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 "
               "double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. "
               "https://support.google.com/mail/?p=NoSuchUser a1b2c3d4e5f.100 - gsmtp";
    if (domain == "outlook.com" || domain == "hotmail.com")
        return "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
               "[BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]";
    if (domain == "yahoo.com")
        return "554 delivery error: dd This user doesn't have a yahoo.com account (RCPT) - mta1234.mail.bf1.yahoo.com";
    return "550 5.1.1 <user>: Recipient address rejected: User unknown in virtual mailbox table";
}

std::string pick(Random& r)
{
    int total = 0;
    for (const auto& d : kDomains)
        total += d.weight;
    int x = r.below(total);
    for (const auto& d : kDomains) {
        if (x < d.weight)
            return d.name;
        x -= d.weight;
    }
    return kDomains[0].name;
}

std::string iso(int day, int hour, int minute, int second)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-03-%02dT%02d:%02d:%02d.000Z", day, hour, minute, second);
    return buf;
}

/// What the DMARC reports of a day and receiver count of the SES traffic: messages the receiver
/// accepted for evaluation (deliveries and complaints) and those it refused for DMARC (5.7.26).
struct Evaluated {
    int passed = 0;
    int dmarcRejected = 0;
};
/// day of March 2026 → receiver ("google", "microsoft", "yahoo") → counts.
using Tally = std::map<int, std::map<std::string, Evaluated>>;

/// The receiver that sends the domain's DMARC reports, empty for those that send none.
std::string receiverOf(const std::string& domain)
{
    if (domain == "gmail.com")
        return "google";
    if (domain == "outlook.com" || domain == "hotmail.com")
        return "microsoft";
    if (domain == "yahoo.com")
        return "yahoo";
    return {};
}

int writeSes(const std::string& path, Tally* tally)
{
    Random r(20260301);
    std::ofstream out(path);
    const std::array<const char*, 3> campaigns {"spring-sale", "newsletter-12", "password-reset"};
    int n = 0;
    for (int day = 1; day <= 14; ++day) {
        for (int hour = 7; hour <= 20; ++hour) {
            const int sends = 40 + r.below(20);
            for (int i = 0; i < sends; ++i, ++n) {
                const std::string domain = pick(r);
                const std::string rcpt = "user" + std::to_string(n) + "@" + domain;
                const std::string campaign = campaigns[static_cast<std::size_t>(r.below(3))];
                nlohmann::ordered_json mail
                    = {{"timestamp", iso(day, hour, r.below(60), r.below(60))},
                       {"source", "news@shop.example.com"},
                       {"messageId", "010001" + std::to_string(1000000 + n)},
                       {"destination", {rcpt}},
                       {"commonHeaders", {{"from", {"Example Shop <news@shop.example.com>"}}, {"subject", "Offers"}}},
                       {"tags", {{"ses:configuration-set", {campaign}}}}};
                const std::string when = iso(day, hour, r.below(60), r.below(60));
                // The incident: on 9 March from 10:00 to 15:59 Microsoft blocks the sending IP range;
                // deliveries to Microsoft resume the next day (the block was lifted).
                const bool microsoft = domain == "outlook.com" || domain == "hotmail.com";
                const bool blockWindow = day == 9 && hour >= 10 && hour <= 15;
                nlohmann::ordered_json j;
                std::string diag, status;
                bool permanent = true;
                if (microsoft && blockWindow && r.chance(0.7)) {
                    diag = "550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact your "
                           "Internet service provider since part of their network is on our block list (S3150). You "
                           "can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.";
                    status = "5.7.1";
                } else if (r.chance(0.012)) {
                    diag = userUnknown(domain);
                    status = "5.1.1";
                } else if (domain == "yahoo.com" && r.chance(0.01)) {
                    diag = "421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to unexpected "
                           "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes";
                    status = "4.7.0";
                    permanent = false;
                } else if (domain == "gmail.com" && r.chance(0.004)) {
                    diag = "550-5.7.26 Unauthenticated email from shop.example.com is not accepted due to domain's "
                           "550-5.7.26 DMARC policy. https://support.google.com/mail/answer/2451690 - gsmtp";
                    status = "5.7.26";
                } else if (domain == "acme-corp.example" && r.chance(0.03)) {
                    diag = "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org; "
                           "https://www.spamhaus.org/query/ip/198.51.100.7";
                    status = "5.7.1";
                } else if (r.chance(0.004)) {
                    diag = "552 5.2.2 <user>: Mailbox full - quota exceeded";
                    status = "5.2.2";
                    permanent = false;
                }
                if (!diag.empty()) {
                    const auto at = diag.find("<user>");
                    if (at != std::string::npos)
                        diag.replace(at, 6, "<" + rcpt + ">");
                    j["notificationType"] = "Bounce";
                    j["bounce"] = {{"bounceType", permanent ? "Permanent" : "Transient"},
                                   {"bounceSubType", "General"},
                                   {"bouncedRecipients",
                                    {{{"emailAddress", rcpt},
                                      {"action", "failed"},
                                      {"status", status},
                                      {"diagnosticCode", "smtp; " + diag}}}},
                                   {"timestamp", when},
                                   {"reportingMTA", "dsn; a8-12.smtp-out.eu-west-1.amazonses.com"}};
                } else if (r.chance(0.0008)) {
                    j["notificationType"] = "Complaint";
                    j["complaint"] = {{"complainedRecipients", {{{"emailAddress", rcpt}}}},
                                      {"timestamp", when},
                                      {"complaintFeedbackType", "abuse"}};
                } else {
                    j["notificationType"] = "Delivery";
                    j["delivery"] = {{"timestamp", when},
                                     {"recipients", {rcpt}},
                                     {"smtpResponse", "250 2.0.0 OK"},
                                     {"reportingMTA", "a8-12.smtp-out.eu-west-1.amazonses.com"}};
                }
                j["mail"] = mail;
                out << j.dump() << '\n';
                // Counted after the fact, drawing no random number: the events stay exactly as
                // they were before the sample had DMARC reports.
                if (const auto rcv = receiverOf(domain); tally && !rcv.empty()) {
                    if (status == "5.7.26")
                        ++(*tally)[day][rcv].dmarcRejected;
                    else if (j["notificationType"] != "Bounce")
                        ++(*tally)[day][rcv].passed;
                }
            }
        }
    }
    return out ? 0 : 1;
}

/// One DMARC aggregate report row: `n` messages from `ip` with the aligned results `dkim`, `spf`
/// and the receiver's raw results behind them.
struct ReportRow {
    std::string ip;
    int n;
    std::string dkim, spf; ///< policy_evaluated: aligned pass or fail
    std::string dkimDomain, dkimResult; ///< empty domain: no signature
    std::string spfDomain, spfResult;
};

std::string xmlReport(const std::string& org, const std::string& email, const std::string& id, int day,
                      const std::vector<ReportRow>& rows)
{
    using namespace std::chrono;
    const auto begin = sys_days {year {2026} / March / static_cast<unsigned>(day)}.time_since_epoch();
    const long long from = duration_cast<seconds>(begin).count();
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <report_metadata>\n    <org_name>" + org
        + "</org_name>\n    <email>" + email + "</email>\n    <report_id>" + id
        + "</report_id>\n    <date_range>\n      <begin>" + std::to_string(from) + "</begin>\n      <end>"
        + std::to_string(from + 86399)
        + "</end>\n    </date_range>\n  </report_metadata>\n  <policy_published>\n    "
          "<domain>shop.example.com</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>reject</p>\n    "
          "<sp>reject</sp>\n    <pct>100</pct>\n  </policy_published>\n";
    for (const auto& r : rows) {
        if (r.n <= 0)
            continue;
        const bool pass = r.dkim == "pass" || r.spf == "pass";
        x += "  <record>\n    <row>\n      <source_ip>" + r.ip + "</source_ip>\n      <count>" + std::to_string(r.n)
            + "</count>\n      <policy_evaluated>\n        <disposition>" + (pass ? "none" : "reject")
            + "</disposition>\n        <dkim>" + r.dkim + "</dkim>\n        <spf>" + r.spf
            + "</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n      "
              "<header_from>shop.example.com</header_from>\n    </identifiers>\n    <auth_results>\n";
        if (!r.dkimDomain.empty())
            x += "      <dkim>\n        <domain>" + r.dkimDomain
                + "</domain>\n        <selector>s1</selector>\n"
                  "        <result>"
                + r.dkimResult + "</result>\n      </dkim>\n";
        x += "      <spf>\n        <domain>" + r.spfDomain + "</domain>\n        <scope>mfrom</scope>\n        <result>"
            + r.spfResult + "</result>\n      </spf>\n    </auth_results>\n  </record>\n";
    }
    return x + "</feedback>\n";
}

/// Generated DMARC aggregate reports (not real ones: tests/data/dmarc holds those) for the SES
/// sample's sending domain, one per receiver and day, consistent with its events:
/// - 198.51.100.7, the SES address the Microsoft block replies name: DKIM d=shop.example.com
///   aligned and passing, SPF passing for amazonses.com (SES's MAIL FROM), so never aligned. The
///   messages Google refused with 5.7.26 are its rows with DKIM failing that day.
/// - 192.0.2.25, the shop's own order-confirmation server (its bounces are in its own log, not in
///   this SES export): SPF aligned, no DKIM; from 10 to 12 March an edit of the SPF record left
///   its address out, so its pass rate drops.
/// - 209.85.220.41, a Google forwarding host: SPF fails for it, the DKIM signature survives.
/// - 203.0.113.45, a stranger sending as shop.example.com: fails both, an unverified source.
int writeDmarc(const std::string& folder, const Tally& tally)
{
    std::filesystem::create_directories(folder);
    Random r(20260315); // its own stream: the SES events do not move
    struct Receiver {
        const char* key;
        const char* org;
        const char* email;
        int ownServer; // messages a day from 192.0.2.25
    };
    const std::array<Receiver, 3> receivers {{{"google", "google.com", "noreply-dmarc-support@google.com", 30},
                                              {"microsoft", "Outlook.com", "dmarcreport@microsoft.com", 12},
                                              {"yahoo", "Yahoo", "dmarchelp@yahooinc.com", 9}}};
    int files = 0;
    for (const auto& [day, byReceiver] : tally) {
        for (const auto& rcv : receivers) {
            const auto it = byReceiver.find(rcv.key);
            const Evaluated e = it == byReceiver.end() ? Evaluated {} : it->second;
            std::vector<ReportRow> rows;
            rows.push_back(
                {"198.51.100.7", e.passed, "pass", "fail", "shop.example.com", "pass", "amazonses.com", "pass"});
            rows.push_back(
                {"198.51.100.7", e.dmarcRejected, "fail", "fail", "shop.example.com", "fail", "amazonses.com", "pass"});
            const bool spfBroken = day >= 10 && day <= 12;
            const int own = rcv.ownServer + r.below(rcv.ownServer / 3 + 1);
            rows.push_back({"192.0.2.25", own, "fail", spfBroken ? "fail" : "pass", "", "", "shop.example.com",
                            spfBroken ? "fail" : "pass"});
            if (std::string(rcv.key) == "google")
                rows.push_back({"209.85.220.41", 2 + r.below(4), "pass", "fail", "shop.example.com", "pass",
                                "shop.example.com", "fail"});
            if (std::string(rcv.key) != "yahoo" && day % 3 == 1)
                rows.push_back({"203.0.113.45", 3 + r.below(8), "fail", "fail", "", "", "shop.example.com", "fail"});
            char name[64];
            std::snprintf(name, sizeof name, "%s!shop.example.com!2026-03-%02d.xml", rcv.org, day);
            char id[64];
            std::snprintf(id, sizeof id, "%s-202603%02d", rcv.key, day);
            std::ofstream out(std::filesystem::path(folder) / name, std::ios::binary);
            out << xmlReport(rcv.org, rcv.email, id, day, rows);
            if (!out)
                return 1;
            ++files;
        }
    }
    return files > 0 ? 0 : 1;
}

int writeBenchCsv(const std::string& path, long rows)
{
    // SendGrid's Bounces export: created, email, reason, status. Replies vary over the common
    // shapes and carry the recipient, as real ones do, so templates and the diagnosis cache work
    // as they would on a real export.
    Random r(42);
    std::ofstream out(path);
    out << "created,email,reason,status\n";
    const std::array<std::pair<const char*, const char*>, 6> replies {{
        {"550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table", "5.1.1"},
        {"550 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org", "5.7.1"},
        {"552 5.2.2 <%s>: Mailbox full", "5.2.2"},
        {"550 5.7.26 Unauthenticated email from shop.example.com is not accepted due to domain's DMARC policy",
         "5.7.26"},
        {"421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to user complaints", "4.7.0"},
        {"554 5.7.1 <%s>: Relay access denied", "5.7.1"},
    }};
    char reply[512];
    for (long i = 0; i < rows; ++i) {
        const std::string rcpt
            = "user" + std::to_string(i) + "@" + kDomains[static_cast<std::size_t>(r.below(10))].name;
        const auto& [shape, status] = replies[static_cast<std::size_t>(r.below(6))];
        std::snprintf(reply, sizeof reply, shape, rcpt.c_str());
        out << 1767225600 + i << ',' << rcpt << ",\"" << reply << "\"," << status << '\n';
    }
    return out ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app {"Writes the sample export files of Bounce Triage", "bouncetriage-samplegen"};
    std::string ses;
    std::string csv;
    std::string dmarc;
    long rows = 0;
    app.add_option("--ses", ses, "Write the sample Amazon SES notifications (JSON Lines) to this file");
    app.add_option("--dmarc", dmarc,
                   "With --ses: write generated DMARC aggregate reports of the same traffic to this folder");
    app.add_option("--bench-csv", csv, "Write a SendGrid-shaped bounce CSV to this file");
    app.add_option("--rows", rows, "Rows of the benchmark CSV")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    int rc = 0;
    if (!ses.empty()) {
        Tally tally;
        rc |= writeSes(ses, &tally);
        if (!dmarc.empty())
            rc |= writeDmarc(dmarc, tally);
    }
    if (!csv.empty())
        rc |= writeBenchCsv(csv, rows ? rows : 1000000);
    if (ses.empty() && csv.empty()) {
        std::cerr << app.help();
        return 2;
    }
    return rc;
}
