// SPDX-License-Identifier: MIT
// Importing 10 000 DMARC aggregate report files into a fresh workspace (issue 14): a folder of
// gzip'd reports as the CLI imports it (bt::importInputs, then bt::importPath per file: each
// report file is an import of its own, with its detection, sha256, lock and import record), and
// the same reports as one zip (one import: what parsing and storing cost without the per-file
// import). The reports are generated here: 1–8 records each, the shape of the real ones in
// tests/data/dmarc (the receivers' names, DKIM and SPF results, some failing).
#include "classifier.h"
#include "dmarc.h"
#include "importer.h"
#include "knowledge.h"
#include "workspace.h"

#include <benchmark/benchmark.h>

#include <archive.h>
#include <archive_entry.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>
#include <zlib.h>

namespace
{

namespace fs = std::filesystem;
constexpr int kFiles = 10000;

std::string report(int i, std::mt19937& rng, int& rows)
{
    static const char* orgs[][2] = {{"google.com", "noreply-dmarc-support@google.com"},
                                    {"Outlook.com", "dmarcreport@microsoft.com"},
                                    {"Yahoo", "dmarchelp@yahooinc.com"},
                                    {"Mail.Ru", "dmarc_support@corp.mail.ru"},
                                    {"AOL", "postmaster@aol.com"},
                                    {"WEB.DE", "noreply-dmarc@sicher.web.de"}};
    const auto& org = orgs[i % 6];
    const long begin = 1709251200L + 86400L * (i / 6 % 365);
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <version>1.0</version>\n"
                    "  <report_metadata>\n    <org_name>"
        + std::string(org[0]) + "</org_name>\n    <email>" + org[1] + "</email>\n    <report_id>bench-"
        + std::to_string(i) + "</report_id>\n    <date_range><begin>" + std::to_string(begin) + "</begin><end>"
        + std::to_string(begin + 86399) + "</end></date_range>\n  </report_metadata>\n"
        + "  <policy_published>\n    <domain>sender.example</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n"
          "    <p>reject</p>\n    <sp>reject</sp>\n    <pct>100</pct>\n  </policy_published>\n";
    rows = 1 + static_cast<int>(rng() % 8);
    for (int r = 0; r < rows; ++r) {
        const bool dkimPass = rng() % 10 != 0, spfPass = rng() % 5 != 0;
        const std::string ip = "198.51.100." + std::to_string(rng() % 250 + 1);
        x += "  <record>\n    <row>\n      <source_ip>" + ip + "</source_ip>\n      <count>"
            + std::to_string(rng() % 500 + 1) + "</count>\n      <policy_evaluated>\n        <disposition>"
            + (dkimPass || spfPass ? "none" : "reject") + "</disposition>\n        <dkim>"
            + (dkimPass ? "pass" : "fail") + "</dkim>\n        <spf>" + (spfPass ? "pass" : "fail")
            + "</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n"
              "      <envelope_from>sender.example</envelope_from>\n      <header_from>sender.example</header_from>\n"
              "    </identifiers>\n    <auth_results>\n      <dkim>\n        <domain>sender.example</domain>\n"
              "        <selector>s"
            + std::to_string(r % 3) + "</selector>\n        <result>" + (dkimPass ? "pass" : "fail")
            + "</result>\n      </dkim>\n      <spf>\n        <domain>sender.example</domain>\n"
              "        <scope>mfrom</scope>\n        <result>"
            + (spfPass ? "pass" : "softfail") + "</result>\n      </spf>\n    </auth_results>\n  </record>\n";
    }
    return x + "</feedback>\n";
}

std::string gzipped(const std::string& bytes)
{
    std::string out(compressBound(static_cast<uLong>(bytes.size())) + 64, '\0');
    z_stream zs {};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/// The generated reports, once: a folder of .xml.gz files and one zip of the same XML.
struct Corpus {
    fs::path dir, zip;
    std::int64_t rows = 0;
    Corpus()
    {
        const fs::path root = fs::temp_directory_path() / ("bt-bench-dmarc-" + std::to_string(::getpid()));
        fs::remove_all(root);
        dir = root / "reports";
        fs::create_directories(dir);
        zip = root / "reports.zip";
        std::mt19937 rng(14);
        archive* a = archive_write_new();
        archive_write_set_format_zip(a);
        archive_write_open_filename(a, zip.c_str());
        for (int i = 0; i < kFiles; ++i) {
            int n = 0;
            const std::string xml = report(i, rng, n);
            rows += n;
            const std::string name = "report-" + std::to_string(i) + ".xml";
            std::ofstream(dir / (name + ".gz"), std::ios::binary) << gzipped(xml);
            archive_entry* e = archive_entry_new();
            archive_entry_set_pathname(e, name.c_str());
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, static_cast<la_int64_t>(xml.size()));
            archive_write_header(a, e);
            archive_write_data(a, xml.data(), xml.size());
            archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
    }
    ~Corpus() { fs::remove_all(dir.parent_path()); }
};

const Corpus& corpus()
{
    static const Corpus c;
    return c;
}

const bt::Classifier& classifier()
{
    static const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    return c;
}

void removeWorkspace(const fs::path& p)
{
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(p.string() + suffix);
}

/// What `import --workspace W folder/` does: every report file an import of its own.
void BM_ImportFolderOfGzippedReports(benchmark::State& state)
{
    const auto& c = corpus();
    classifier();
    const fs::path wsPath = c.dir.parent_path() / "folder.btw";
    std::int64_t imported = 0;
    for (auto _ : state) {
        state.PauseTiming();
        removeWorkspace(wsPath);
        state.ResumeTiming();
        bt::Workspace ws(wsPath.string());
        imported = 0;
        for (const auto& input : bt::importInputs(c.dir.string()))
            imported += bt::importPath(ws, input, classifier()).counts.imported;
    }
    if (imported != c.rows)
        state.SkipWithError("not every row was imported");
    state.counters["files"] = kFiles;
    state.counters["rows"] = static_cast<double>(imported);
    state.counters["files/s"] = benchmark::Counter(kFiles, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ImportFolderOfGzippedReports)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

/// The same reports in one zip: one import, parsing and storing only.
void BM_ImportOneZipOfReports(benchmark::State& state)
{
    const auto& c = corpus();
    classifier();
    const fs::path wsPath = c.dir.parent_path() / "zip.btw";
    std::int64_t imported = 0;
    for (auto _ : state) {
        state.PauseTiming();
        removeWorkspace(wsPath);
        state.ResumeTiming();
        bt::Workspace ws(wsPath.string());
        imported = bt::importPath(ws, c.zip.string(), classifier()).counts.imported;
    }
    if (imported != c.rows)
        state.SkipWithError("not every row was imported");
    state.counters["reports"] = kFiles;
    state.counters["rows"] = static_cast<double>(imported);
    state.counters["reports/s"] = benchmark::Counter(kFiles, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ImportOneZipOfReports)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
