// SPDX-License-Identifier: MIT
// DMARC aggregate reports imported into a real workspace file: the real formats of seven
// receivers (tests/data/dmarc, sources in its README), the same reports gzip'd, zipped, attached
// to e-mails and in an mbox (the containers are made here from the committed XML with zlib and
// libarchive), broken and foreign XML, duplicates, and the per-IP query read back.
#include "dmarc.h"
#include "importer.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <zlib.h>

namespace
{

namespace fs = std::filesystem;
const fs::path kDmarc = fs::path(BT_TEST_DATA) / "dmarc";

using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;

std::string slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const fs::path& p, const std::string& bytes)
{
    std::ofstream(p, std::ios::binary) << bytes;
}

/// A folder in the temp folder, removed with what it holds.
struct TempDir {
    fs::path path;
    TempDir()
    {
        path = fs::temp_directory_path() / ("bt-dmarc-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    static inline int counter = 0;
};

std::string gzipped(const std::string& bytes)
{
    z_stream zs {};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, bytes.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/// A zip archive (deflated, as receivers send it) holding `entries` (name → bytes), in memory.
std::string zipped(const std::vector<std::pair<std::string, std::string>>& entries)
{
    archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    std::string out(1 << 20, '\0');
    size_t used = 0;
    EXPECT_EQ(archive_write_open_memory(a, out.data(), out.size(), &used), ARCHIVE_OK);
    for (const auto& [name, bytes] : entries) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
        EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK);
        EXPECT_EQ(archive_write_data(a, bytes.data(), bytes.size()), static_cast<la_ssize_t>(bytes.size()));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    out.resize(used);
    return out;
}

std::string base64(const std::string& in)
{
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t col = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const auto b = [&](std::size_t k) { return k < in.size() ? static_cast<unsigned char>(in[k]) : 0u; };
        const unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
        out += abc[(v >> 18) & 63];
        out += abc[(v >> 12) & 63];
        out += i + 1 < in.size() ? abc[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? abc[v & 63] : '=';
        if ((col += 4) >= 76) {
            out += '\n';
            col = 0;
        }
    }
    return out + '\n';
}

/// A report e-mail as receivers send them: a short text part and the report attached.
std::string reportEmail(const std::string& contentType, const std::string& filename, const std::string& bytes,
                        const std::string& id)
{
    return "From: DMARC Reports <noreply-dmarc@receiver.example>\n"
           "To: rua@sender.example\n"
           "Subject: Report Domain: sender.example Submitter: receiver.example Report-ID: <"
        + id
        + ">\n"
          "Date: Mon, 04 Mar 2024 10:00:00 +0000\n"
          "Message-ID: <"
        + id
        + "@receiver.example>\n"
          "MIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=\"=-b1\"\n\n"
          "--=-b1\nContent-Type: text/plain; charset=utf-8\n\nThis is an aggregate report from receiver.example.\n\n"
          "--=-b1\nContent-Type: "
        + contentType + "; name=\"" + filename + "\"\nContent-Disposition: attachment; filename=\"" + filename
        + "\"\nContent-Transfer-Encoding: base64\n\n" + base64(bytes) + "--=-b1--\n";
}

bt::ImportResult importFile(bt::Workspace& ws, const fs::path& p)
{
    auto r = bt::importPath(ws, p.string(), classifier());
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.counts.read, r.counts.imported + r.counts.rejected + r.counts.duplicate) << p;
    return r;
}

const bt::DmarcReport* findReport(const std::vector<bt::DmarcReport>& all, const std::string& org,
                                  const std::string& id)
{
    for (const auto& r : all)
        if (r.orgName == org && r.reportId == id)
            return &r;
    return nullptr;
}

std::vector<bt::Reject> rejectsOf(bt::Workspace& ws, const bt::ImportResult& r)
{
    return ws.rejects(r.importId);
}

} // namespace

TEST(DmarcImport, EachRealReceiversFormatImportsWithItsRowsAndValues)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // file → rows; every one a report of its own.
    const std::map<std::string, std::int64_t> files = {
        {"google.xml", 1}, {"outlook.xml", 2},        {"yahoo.xml", 1},           {"mailru.xml", 1},
        {"aol.xml", 1},    {"webde-dmarcbis.xml", 1}, {"outlook-hotmail.xml", 1},
    };
    for (const auto& [file, rows] : files) {
        EXPECT_EQ(bt::detectFormat((kDmarc / file).string()), bt::format::dmarc) << file;
        const auto r = importFile(ws, kDmarc / file);
        EXPECT_EQ(r.format, bt::format::dmarc) << file;
        EXPECT_EQ(r.counts.read, rows) << file;
        EXPECT_EQ(r.counts.imported, rows) << file;
        EXPECT_EQ(r.counts.rejected, 0) << file;
        EXPECT_TRUE(r.note.empty()) << r.note;
        const auto info = ws.imports().back();
        EXPECT_EQ(info.status, "done");
        EXPECT_EQ(info.counts.imported, rows);
    }
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 7);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_rows"), 8);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events"), 0) << "reports are no events";

    const auto all = bt::dmarcReports(ws);
    ASSERT_EQ(all.size(), 7u);

    const auto* google = findReport(all, "google.com", "3166094538684628578");
    ASSERT_NE(google, nullptr);
    EXPECT_EQ(google->email, "noreply-dmarc-support@google.com");
    EXPECT_EQ(google->begin, "2024-03-06T00:00:00Z");
    EXPECT_EQ(google->end, "2024-03-06T23:59:59Z");
    EXPECT_EQ(google->domain, "foo-bar.io");
    EXPECT_EQ(google->p, "reject");
    EXPECT_EQ(google->sp, "reject");
    EXPECT_EQ(google->np, "reject") << "DMARCbis np, which Google already sends";
    EXPECT_EQ(google->pct, 100);
    ASSERT_EQ(google->rows.size(), 1u);
    const auto& g = google->rows[0];
    EXPECT_EQ(g.sourceIp, "1.2.3.4");
    EXPECT_EQ(g.count, 1);
    EXPECT_EQ(g.disposition, "none");
    EXPECT_EQ(g.dkim, "pass");
    EXPECT_EQ(g.spf, "pass");
    EXPECT_EQ(g.headerFrom, "foo-bar.io");
    const std::vector<bt::DmarcAuth> googleAuth
        = {{"dkim", "foo-bar.io", "krs", "", "pass", ""}, {"spf", "foo-bar.io", "", "", "pass", ""}};
    EXPECT_EQ(g.auth, googleAuth);

    const auto* outlook = findReport(all, "Outlook.com", "a4f4ef0654474d3faa5dca167a34a86a");
    ASSERT_NE(outlook, nullptr);
    EXPECT_EQ(outlook->domain, "random.net");
    EXPECT_EQ(outlook->end, "2024-03-07T00:00:00Z") << "Microsoft ends a day at the next midnight";
    EXPECT_EQ(outlook->fo, "0");
    EXPECT_EQ(outlook->version, "1.0");
    ASSERT_EQ(outlook->rows.size(), 2u);
    EXPECT_EQ(outlook->rows[0].envelopeTo, "live.de");
    EXPECT_EQ(outlook->rows[1].envelopeTo, "outlook.de");
    EXPECT_EQ(outlook->rows[1].count, 2);
    EXPECT_EQ(outlook->rows[1].envelopeFrom, "random.net");
    EXPECT_EQ(outlook->rows[1].auth[0].selector, "def");
    EXPECT_EQ(outlook->rows[1].auth[1].scope, "mfrom");
    EXPECT_EQ(outlook->rows[1].line, 50) << "the line of its <record> in the (CRLF) file";

    const auto* yahoo = findReport(all, "Yahoo", "1709600619.487850");
    ASSERT_NE(yahoo, nullptr);
    EXPECT_EQ(yahoo->email, "dmarchelp@yahooinc.com");
    EXPECT_EQ(yahoo->begin, "2024-03-04T00:00:00Z");
    EXPECT_EQ(yahoo->domain, "random.org");
    EXPECT_EQ(yahoo->sp, "");
    ASSERT_EQ(yahoo->rows.size(), 1u);
    EXPECT_EQ(yahoo->rows[0].auth[0].selector, "abc");
    EXPECT_EQ(yahoo->rows[0].auth[1].scope, "") << "Yahoo gives no SPF scope";

    const auto* mailru = findReport(all, "Mail.Ru", "28327321193681154911721360800");
    ASSERT_NE(mailru, nullptr);
    EXPECT_EQ(mailru->extraContactInfo, "http://help.mail.ru/mail-help");
    EXPECT_EQ(mailru->domain, "foobar.de");
    ASSERT_EQ(mailru->rows.size(), 1u);
    EXPECT_EQ(mailru->rows[0].sourceIp, "118.41.204.2");
    EXPECT_EQ(mailru->rows[0].disposition, "reject");
    EXPECT_EQ(mailru->rows[0].dkim, "fail");
    EXPECT_EQ(mailru->rows[0].spf, "fail");
    const std::vector<bt::DmarcAuth> mailruAuth = {{"spf", "foobar.de", "", "mfrom", "softfail", ""}};
    EXPECT_EQ(mailru->rows[0].auth, mailruAuth);

    const auto* aol = findReport(all, "AOL", "website.com_1504828800");
    ASSERT_NE(aol, nullptr);
    EXPECT_EQ(aol->begin, "2017-09-07T00:00:00Z");
    EXPECT_EQ(aol->rows.at(0).sourceIp, "125.125.125.125");
    EXPECT_EQ(aol->rows.at(0).auth.at(0).selector, "") << "AOL names no selector";

    const auto* webde = findReport(all, "WEB.DE", "a3345c7cb5fd4f26aa62144bf449a54b");
    ASSERT_NE(webde, nullptr) << "the DMARCbis namespace is read like the old schema";
    EXPECT_EQ(webde->discoveryMethod, "psl");
    EXPECT_EQ(webde->testing, "n");
    EXPECT_EQ(webde->sp, "none");
    EXPECT_FALSE(webde->pct.has_value()) << "DMARCbis has no pct";
    EXPECT_EQ(webde->rows.at(0).auth.at(0).selector, "sel123");

    const auto* hotmail = findReport(all, "Outlook.com", "cfeafefe4129445e8c81018bd9177197");
    ASSERT_NE(hotmail, nullptr);
    EXPECT_EQ(hotmail->rows.at(0).sourceIp, "100.24.188.149");
    EXPECT_EQ(hotmail->rows.at(0).envelopeTo, "hotmail.com");
    ASSERT_EQ(hotmail->rows.at(0).auth.size(), 1u);
    EXPECT_EQ(hotmail->rows.at(0).auth[0].result, "fail");
}

TEST(DmarcImport, GzipZipEmailAndMboxAreReadAndRecognisedByContentNotName)
{
    TempDir dir;
    // Names that say nothing (or the wrong thing): detection reads the content.
    const auto gz = dir.path / "yahoo-report.txt";
    spit(gz, gzipped(slurp(kDmarc / "yahoo.xml")));
    const auto zip = dir.path / "archive.dat";
    spit(zip,
         zipped({{"mail.ru!foobar.de!1721260800!1721347200.xml", slurp(kDmarc / "mailru.xml")},
                 {"aol.xml.gz", gzipped(slurp(kDmarc / "aol.xml"))}}));
    const auto eml = dir.path / "message.csv";
    spit(eml,
         reportEmail("application/gzip", "outlook.com!random.net!1709683200!1709769600.xml.gz",
                     gzipped(slurp(kDmarc / "outlook.xml")), "m1"));
    const auto mbox = dir.path / "rua.mbox";
    spit(mbox,
         "From noreply-dmarc@receiver.example Mon Mar  4 10:00:00 2024\n"
             + reportEmail("application/zip", "google.com!foo-bar.io!1709683200!1709769599.zip",
                           zipped({{"google.com!foo-bar.io!1709683200!1709769599.xml", slurp(kDmarc / "google.xml")}}),
                           "m2")
             + "\nFrom noreply-dmarc@receiver.example Mon Mar  4 11:00:00 2024\n"
             + reportEmail("text/xml", "webde.xml", slurp(kDmarc / "webde-dmarcbis.xml"), "m3")
             + "\nFrom someone@sender.example Mon Mar  4 12:00:00 2024\n"
               "From: someone@sender.example\nTo: rua@sender.example\nSubject: hello\n\nNo report here.\n");
    for (const auto& p : {gz, zip, eml, kDmarc / "google-report.eml"})
        EXPECT_EQ(bt::detectFormat(p.string()), bt::format::dmarc) << p;
    // An mbox is the bounce reader's, which reads the report e-mails in it as reports.
    EXPECT_EQ(bt::detectFormat(mbox.string()), bt::format::email);

    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    auto r = importFile(ws, gz);
    EXPECT_EQ(r.counts.imported, 1);
    r = importFile(ws, zip);
    EXPECT_EQ(r.counts.read, 2) << "both entries, the second one gzip'd inside the zip";
    EXPECT_EQ(r.counts.imported, 2);
    r = importFile(ws, eml);
    EXPECT_EQ(r.counts.imported, 2);
    r = importFile(ws, mbox);
    EXPECT_EQ(r.counts.read, 3);
    EXPECT_EQ(r.counts.imported, 2);
    EXPECT_EQ(r.counts.rejected, 1) << "the message that is neither a bounce nor a report";
    const auto rejects = rejectsOf(ws, r);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_GT(rejects[0].sourceOffset, 0) << rejects[0].reason;
    // The real report e-mail Google sent (zip attachment, base64, a Microsoft 365 mailbox's headers).
    r = importFile(ws, kDmarc / "google-report.eml");
    EXPECT_EQ(r.counts.imported, 1);

    const auto all = bt::dmarcReports(ws);
    EXPECT_EQ(all.size(), 7u);
    for (const auto& [org, id] :
         std::vector<std::pair<std::string, std::string>> {{"Yahoo", "1709600619.487850"},
                                                           {"Mail.Ru", "28327321193681154911721360800"},
                                                           {"AOL", "website.com_1504828800"},
                                                           {"Outlook.com", "a4f4ef0654474d3faa5dca167a34a86a"},
                                                           {"google.com", "3166094538684628578"},
                                                           {"WEB.DE", "a3345c7cb5fd4f26aa62144bf449a54b"},
                                                           {"google.com", "949348866075514174"}})
        EXPECT_NE(findReport(all, org, id), nullptr) << org << " " << id;
    // The same values as the plain XML gives: the containers change nothing.
    const auto plain = bt::parseDmarcReport(slurp(kDmarc / "outlook.xml"), "outlook.xml");
    const auto* fromMail = findReport(all, "Outlook.com", "a4f4ef0654474d3faa5dca167a34a86a");
    ASSERT_NE(fromMail, nullptr);
    EXPECT_EQ(fromMail->rows, plain.rows);
    EXPECT_NE(fromMail->sourceFile.find("attachment outlook.com!random.net"), std::string::npos)
        << fromMail->sourceFile;
    const auto* real = findReport(all, "google.com", "949348866075514174");
    ASSERT_NE(real, nullptr);
    EXPECT_EQ(real->domain, "borschow.com");
    EXPECT_EQ(real->rows.at(0).sourceIp, "92.53.116.102");
    EXPECT_EQ(real->rows.at(0).disposition, "reject");
}

TEST(DmarcImport, BrokenXmlIsRejectedWithItsLineAndNothingIsStored)
{
    TempDir dir;
    const auto cut = dir.path / "cut.xml";
    const std::string google = slurp(kDmarc / "google.xml");
    spit(cut, google.substr(0, google.size() / 2));
    const auto cutGz = dir.path / "cut.xml.gz";
    spit(cutGz, gzipped(google.substr(0, 700)));

    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    for (const auto& p : {kDmarc / "invalid-xml.xml", cut, cutGz}) {
        const auto r = importFile(ws, p);
        EXPECT_EQ(r.format, bt::format::dmarc) << p;
        EXPECT_EQ(r.counts.read, 1) << p;
        EXPECT_EQ(r.counts.rejected, 1) << p;
        EXPECT_EQ(r.counts.imported, 0) << p;
        const auto rejects = rejectsOf(ws, r);
        ASSERT_EQ(rejects.size(), 1u);
        EXPECT_NE(rejects[0].reason.find(p.string()), std::string::npos) << "names the file: " << rejects[0].reason;
        EXPECT_NE(rejects[0].reason.find("not well-formed XML"), std::string::npos) << rejects[0].reason;
        EXPECT_GT(rejects[0].sourceLine, 0) << rejects[0].reason;
        EXPECT_FALSE(rejects[0].raw.empty());
    }
    const auto invalid = ws.rejects(ws.imports().front().id);
    EXPECT_EQ(invalid.at(0).sourceLine, 5) << invalid.at(0).reason; // <email><bad-xml@bad-xml.net></email>
    EXPECT_NE(invalid.at(0).reason.find("line 5"), std::string::npos) << invalid.at(0).reason;
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 0);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_rows"), 0);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_auth"), 0);
    // The workspace is whole and the next import goes in.
    EXPECT_EQ(testsupport::text(ws, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(importFile(ws, kDmarc / "google.xml").counts.imported, 1);
}

TEST(DmarcImport, OtherXmlAndIncompleteReportsAreRejectedSayingWhy)
{
    TempDir dir;
    const auto sitemap = dir.path / "sitemap.xml";
    spit(sitemap,
         "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
         "<url><loc>https://example.com/</loc></url>\n</urlset>\n");
    std::string yahoo = slurp(kDmarc / "yahoo.xml");
    const auto noPolicy = dir.path / "no-policy.xml";
    {
        std::string s = yahoo;
        s.erase(s.find("<policy_published>"), s.find("</policy_published>") + 19 - s.find("<policy_published>"));
        spit(noPolicy, s);
    }
    const auto noMetadata = dir.path / "no-metadata.xml";
    {
        std::string s = yahoo;
        s.erase(s.find("<report_metadata>"), s.find("</report_metadata>") + 18 - s.find("<report_metadata>"));
        spit(noMetadata, s);
    }
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const std::map<fs::path, std::string> why = {
        {sitemap, "not a DMARC aggregate report: its root element is <urlset>"},
        {noPolicy, "no <policy_published>"},
        {noMetadata, "no <report_metadata>"},
    };
    for (const auto& [p, reason] : why) {
        EXPECT_EQ(bt::detectFormat(p.string()), bt::format::dmarc) << p;
        const auto r = importFile(ws, p);
        EXPECT_EQ(r.counts.read, 1);
        EXPECT_EQ(r.counts.rejected, 1);
        const auto rejects = rejectsOf(ws, r);
        ASSERT_EQ(rejects.size(), 1u);
        EXPECT_NE(rejects[0].reason.find(reason), std::string::npos) << rejects[0].reason;
        EXPECT_NE(rejects[0].reason.find(p.string()), std::string::npos) << rejects[0].reason;
    }
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 0);

    // A failure (forensic) report is an ARF e-mail: the bounce reader's (a complaint), never
    // taken for an aggregate report.
    const auto arf = dir.path / "forensic.eml";
    spit(arf,
         "From: dmarc-forensic@receiver.example\nTo: ruf@sender.example\nSubject: FW: hello\n"
         "Date: Mon, 04 Mar 2024 10:00:00 +0000\nMIME-Version: 1.0\n"
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\n\n"
         "--b\nContent-Type: text/plain\n\nA message claiming to be from you failed DMARC.\n\n"
         "--b\nContent-Type: message/feedback-report\n\nFeedback-Type: auth-failure\nVersion: 1\n"
         "Auth-Failure: dmarc\nSource-IP: 192.0.2.1\nReported-Domain: sender.example\n\n"
         "--b\nContent-Type: text/rfc822-headers\n\nFrom: ceo@sender.example\nTo: x@receiver.example\n"
         "Subject: hello\n\n--b--\n");
    EXPECT_EQ(bt::detectFormat(arf.string()), bt::format::email);
}

TEST(DmarcImport, TheSameReportTwiceIsCountedAsDuplicates)
{
    TempDir dir;
    const auto gz = dir.path / "google.xml.gz";
    spit(gz, gzipped(slurp(kDmarc / "google.xml")));
    const auto twice = dir.path / "twice.zip";
    spit(twice, zipped({{"a.xml", slurp(kDmarc / "outlook.xml")}, {"b.xml", slurp(kDmarc / "outlook.xml")}}));
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(importFile(ws, kDmarc / "google.xml").counts.imported, 1);
    // Another file (gzip'd: another sha256), the same org name and report id.
    const auto again = importFile(ws, gz);
    EXPECT_EQ(again.counts.read, 1);
    EXPECT_EQ(again.counts.imported, 0);
    EXPECT_EQ(again.counts.duplicate, 1);
    // Twice inside one import: the second copy is a duplicate of the first.
    const auto r = importFile(ws, twice);
    EXPECT_EQ(r.counts.read, 4);
    EXPECT_EQ(r.counts.imported, 2);
    EXPECT_EQ(r.counts.duplicate, 2);
    // The same file again.
    const auto same = importFile(ws, twice);
    EXPECT_EQ(same.counts.duplicate, 4);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 2);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_rows"), 3);
    EXPECT_EQ(scalar(ws, "SELECT SUM(imported) FROM imports"), 3);
    EXPECT_EQ(scalar(ws, "SELECT SUM(duplicate) FROM imports"), 7);
}

TEST(DmarcImport, ARowWithoutAUsableSourceIpOrCountIsRejectedAloneAndTheOthersAreStored)
{
    TempDir dir;
    std::string s = slurp(kDmarc / "outlook.xml");
    s.replace(s.find("1.2.3.4"), 7, "1.2.3.x");
    const auto p = dir.path / "bad-ip.xml";
    spit(p, s);
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = importFile(ws, p);
    EXPECT_EQ(r.counts.read, 2);
    EXPECT_EQ(r.counts.imported, 1);
    EXPECT_EQ(r.counts.rejected, 1);
    const auto rejects = rejectsOf(ws, r);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_NE(rejects[0].reason.find("record at line 22: source_ip \"1.2.3.x\" is not an IP address"),
              std::string::npos)
        << rejects[0].reason;
    EXPECT_EQ(rejects[0].sourceLine, 22);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_rows"), 1);
    EXPECT_EQ(scalar(ws, "SELECT count FROM dmarc_rows"), 2);
}

TEST(DmarcImport, SourcesSumMessagesAndPassesPerIpAcrossReports)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    for (const char* f : {"google.xml", "outlook.xml", "yahoo.xml", "mailru.xml", "outlook-hotmail.xml"})
        importFile(ws, kDmarc / f);
    const auto sources = bt::dmarcSources(ws);
    ASSERT_EQ(sources.size(), 3u);
    // 1.2.3.4: Google 1, Outlook 1 + 2, Yahoo 1, all passing.
    EXPECT_EQ(sources[0].sourceIp, "1.2.3.4");
    EXPECT_EQ(sources[0].messages, 5);
    EXPECT_EQ(sources[0].dkimPass, 5);
    EXPECT_EQ(sources[0].spfPass, 5);
    EXPECT_EQ(sources[0].dmarcPass, 5);
    EXPECT_EQ(sources[0].reports, 3);
    EXPECT_EQ(sources[0].firstDay, "2024-03-04");
    EXPECT_EQ(sources[0].lastDay, "2024-03-06") << "Outlook's range ends at the next midnight: still the 6th";
    // Ties by messages go by IP.
    EXPECT_EQ(sources[1].sourceIp, "100.24.188.149");
    EXPECT_EQ(sources[1].dmarcPass, 0);
    EXPECT_EQ(sources[2].sourceIp, "118.41.204.2");
    EXPECT_EQ(sources[2].messages, 1);
    EXPECT_EQ(sources[2].dkimPass, 0);
    EXPECT_EQ(sources[2].spfPass, 0);
    EXPECT_EQ(sources[2].firstDay, "2024-07-18");
    // One policy domain.
    const auto one = bt::dmarcSources(ws, "foobar.de");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].sourceIp, "118.41.204.2");
}

TEST(DmarcImport, CliImportJsonCountsReportRowsLikeEveryImporter)
{
    TempWorkspace t;
    const auto run
        = testsupport::shell(std::string(BT_CLI) + " import --json --workspace " + t.path.string() + " "
                             + (kDmarc / "outlook.xml").string() + " " + (kDmarc / "invalid-xml.xml").string());
    EXPECT_EQ(run.exitCode, 0) << run.out;
    std::istringstream lines(run.out);
    std::string line;
    std::vector<nlohmann::json> out;
    while (std::getline(lines, line))
        if (!line.empty() && line.front() == '{')
            out.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(out.size(), 2u) << run.out;
    EXPECT_EQ(out[0]["format"], "dmarc_aggregate");
    EXPECT_EQ(out[0]["read"], 2);
    EXPECT_EQ(out[0]["imported"], 2);
    EXPECT_EQ(out[1]["rejected"], 1);
    ASSERT_EQ(out[1]["rejects"].size(), 1u);
    EXPECT_NE(out[1]["rejects"][0]["reason"].get<std::string>().find("line 5"), std::string::npos) << run.out;
}

TEST(Workspace, SchemaSixGainsTheDmarcTablesAndKeepsItsEvents)
{
    TempWorkspace t;
    {
        bt::Workspace ws(t.path.string());
        bt::importPath(ws, (fs::path(BT_TEST_DATA) / "sendgrid-bounces.csv").string(), classifier());
        // The file as schema 6 left it.
        ws.db().exec("DROP TABLE dmarc_auth; DROP TABLE dmarc_rows; DROP TABLE dmarc_reports; PRAGMA user_version=6");
    }
    std::int64_t events = 0;
    {
        bt::Workspace old(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(old.schemaVersion(), 6);
        events = old.eventCount();
        EXPECT_GT(events, 0);
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    EXPECT_EQ(ws.eventCount(), events);
    EXPECT_EQ(scalar(ws,
                     "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('dmarc_reports', 'dmarc_rows', "
                     "'dmarc_auth')"),
              3);
    EXPECT_EQ(importFile(ws, kDmarc / "yahoo.xml").counts.imported, 1);
    // Removing an import removes its reports, rows and results (what a killed import's rerun does).
    ws.db().exec("PRAGMA foreign_keys=ON; DELETE FROM imports WHERE format = 'dmarc_aggregate'");
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 0);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_auth"), 0);
}

TEST(DmarcImport, ADamagedZipKeepsTheReportsBeforeTheDamageAndRejectsTheRest)
{
    TempDir dir;
    const std::string whole
        = zipped({{"first.xml", slurp(kDmarc / "yahoo.xml")}, {"second.xml", slurp(kDmarc / "outlook.xml")}});
    const auto cut = dir.path / "cut.zip";
    // Cut inside the second entry's data: the first entry is whole.
    const auto second = whole.find("second.xml");
    ASSERT_NE(second, std::string::npos);
    spit(cut, whole.substr(0, second + 60));
    EXPECT_EQ(bt::detectFormat(cut.string()), bt::format::dmarc);
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = importFile(ws, cut);
    EXPECT_EQ(r.counts.imported, 1) << "the first report";
    EXPECT_EQ(r.counts.rejected, 1);
    const auto rejects = rejectsOf(ws, r);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_NE(rejects[0].reason.find(cut.string()), std::string::npos) << rejects[0].reason;
    EXPECT_NE(rejects[0].reason.find("libarchive"), std::string::npos) << rejects[0].reason;
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_reports"), 1);
}

TEST(FolderImport, ReportsInAFolderAreImportsOfTheirOwnBesideTheBounceEmails)
{
    TempDir dir;
    fs::copy_file(kDmarc / "google-report.eml", dir.path / "1.eml");
    fs::copy_file(fs::path(BT_RESOURCES_DIR) / "sample" / "bounce-sample.eml", dir.path / "2.eml");
    spit(dir.path / "3", gzipped(slurp(kDmarc / "mailru.xml")));
    const auto inputs = bt::importInputs(dir.path.string());
    const std::vector<std::string> want = {dir.path.string(), (dir.path / "1.eml").string(), (dir.path / "3").string()};
    EXPECT_EQ(inputs, want);
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    std::map<std::string, bt::ImportCounts> byFormat;
    for (const auto& in : inputs) {
        const auto r = bt::importPath(ws, in, classifier());
        EXPECT_TRUE(r.error.empty()) << r.error;
        auto& c = byFormat[r.format];
        c.read += r.counts.read;
        c.imported += r.counts.imported;
        c.rejected += r.counts.rejected;
    }
    EXPECT_EQ(byFormat["dmarc_aggregate"].imported, 2);
    EXPECT_EQ(byFormat["dmarc_aggregate"].rejected, 0);
    EXPECT_GT(byFormat["email"].imported, 0) << "the bounce stays the e-mail import's";
    EXPECT_EQ(byFormat["email"].rejected, 0) << "the report e-mail is not in the e-mail import";
}

TEST(DmarcImport, AMailboxOfBouncesAndReportsGivesTheEventsAndTheReportsInOneImport)
{
    TempDir dir;
    const auto mbox = dir.path / "postmaster.mbox";
    const std::string bounce = slurp(fs::path(BT_RESOURCES_DIR) / "sample" / "bounce-sample.eml");
    spit(mbox,
         "From MAILER-DAEMON Mon Mar  4 09:00:00 2024\n" + bounce
             + "\nFrom noreply-dmarc@receiver.example Mon Mar  4 10:00:00 2024\n"
             + reportEmail("application/gzip", "yahoo.xml.gz", gzipped(slurp(kDmarc / "yahoo.xml")), "m9")
             + "\nFrom noreply-dmarc@receiver.example Mon Mar  4 11:00:00 2024\n"
             + reportEmail("application/zip", "broken.zip", "PK\x03\x04 not a zip at all", "m10"));
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // The bounce reader alone, for the number of events the bounce gives.
    std::int64_t bounceEvents = 0;
    {
        TempWorkspace t2;
        bt::Workspace ws2(t2.path.string());
        const auto only = dir.path / "bounce.eml";
        spit(only, bounce);
        bounceEvents = importFile(ws2, only).counts.imported;
        ASSERT_GT(bounceEvents, 0);
    }
    const auto r = importFile(ws, mbox);
    EXPECT_EQ(r.format, bt::format::email);
    EXPECT_EQ(r.counts.imported, bounceEvents + 1) << "the bounce's events and the report's row";
    EXPECT_EQ(r.counts.rejected, 1) << "the broken zip attachment";
    EXPECT_EQ(ws.eventCount(), bounceEvents);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM dmarc_rows"), 1);
    const auto rejects = rejectsOf(ws, r);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_NE(rejects[0].reason.find("(message 3): attachment broken.zip"), std::string::npos) << rejects[0].reason;
}
