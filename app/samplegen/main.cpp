// SPDX-License-Identifier: MIT
// bouncetriage-samplegen: writes realistic, deterministic export files (Amazon SES notifications
// and a Postfix log) for the bundled sample workspace, or a SendGrid-shaped bounce CSV of any
// size for the import benchmark. The sample is then made by importing these files with the
// real importers, so it holds exactly what a user's import would.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

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

int writeSes(const std::string& path)
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
            }
        }
    }
    return out ? 0 : 1;
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
    long rows = 0;
    app.add_option("--ses", ses, "Write the sample Amazon SES notifications (JSON Lines) to this file");
    app.add_option("--bench-csv", csv, "Write a SendGrid-shaped bounce CSV to this file");
    app.add_option("--rows", rows, "Rows of the benchmark CSV")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    int rc = 0;
    if (!ses.empty())
        rc |= writeSes(ses);
    if (!csv.empty())
        rc |= writeBenchCsv(csv, rows ? rows : 1000000);
    if (ses.empty() && csv.empty()) {
        std::cerr << app.help();
        return 2;
    }
    return rc;
}
