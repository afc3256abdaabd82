// SPDX-License-Identifier: MIT
// bouncetriage-cli: the command-line entry point. All logic lives in core/; this file only
// parses arguments, reads input and prints.
#include "analysis.h"
#include "bounce.h"
#include "checks.h"
#include "classifier.h"
#include "dmarc.h"
#include "dmarcmatch.h"
#include "dns.h"
#include "fields.h"
#include "filteroption.h"
#include "importer.h"
#include "json.h"
#include "jsonwriter.h"
#include "knowledge.h"
#include "mailsource.h"
#include "memo.h"
#include "orderedpool.h"
#include "providerlookup.h"
#include "query.h"
#include "sendcounts.h"
#include "tester.h"
#include "textsafety.h"
#include "triage.h"
#include "userconfig.h"
#include "watchcmd.h"
#include "workspace.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace
{

// Exit codes (README, --help): what a script needs to tell apart.
constexpr int kExitOk = 0;
constexpr int kExitNothingDone = 1; ///< nothing imported, no input
constexpr int kExitBadInput = 2; ///< unreadable or binary file, bad filter, bad workspace
constexpr int kExitUsage = 64; ///< the command line itself (sysexits.h EX_USAGE)

constexpr const char* kExitCodesHelp
    = "Exit codes: 0 done; 1 nothing done (nothing imported, empty input); 2 bad input (a file that cannot be "
      "read or is binary, a bad --filter, a file that is no workspace); 64 usage error (unknown option or "
      "command, missing argument).";

int fail(const std::string& message, int code = kExitBadInput)
{
    std::cerr << "bouncetriage-cli: " << bt::escapeControls(message) << "\n";
    return code;
}

/// Ends a command that writes nothing but its output: the output flushed, the process ends
/// without tearing down the knowledge base, the compiled patterns and the model, and without
/// waiting for the model's loading thread when no reply needed the model (for one pasted
/// reply that was ~10 of its ~65 ms). Only for commands whose workspace, if any, is read-only.
[[noreturn]] void leave(int rc)
{
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(rc);
}

/// Text from data as a terminal may show it (control characters escaped).
std::string safe(std::string_view text)
{
    return bt::escapeControls(text);
}

/// At most `width` bytes of `text`, never cutting a UTF-8 character.
std::string clip(const std::string& text, std::size_t width)
{
    if (text.size() <= width)
        return text;
    std::size_t n = width;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
        --n;
    return text.substr(0, n);
}

/// The --filter options of report, incidents and suppressions: read (a bad one throws, exit 2),
/// then providers matched to the workspace's own names.
bt::EventFilter readFilters(bt::Workspace& ws, const std::vector<std::string>& options)
{
    bt::EventFilter filter;
    std::string error;
    for (const auto& o : options)
        if (!bt::applyFilterOption(filter, o, &error))
            throw std::runtime_error(error);
    if (!bt::resolveProviders(ws, filter, &error))
        throw std::runtime_error(error);
    return filter;
}

/// Checks the filters before a workspace is opened, so a typo is said first.
void checkFilters(const std::vector<std::string>& options)
{
    bt::EventFilter filter;
    std::string error;
    for (const auto& o : options)
        if (!bt::applyFilterOption(filter, o, &error))
            throw std::runtime_error(error);
}

int runParse(const bt::Classifier& classifier, const std::vector<std::string>& paths, bool json, unsigned jobs,
             const std::vector<std::string>& formats, const std::string& workspace)
{
    // With a workspace, each auth or policy record is set beside the DMARC aggregate reports it
    // holds (the From domain's rows on the bounce's day). Read on the printing thread only.
    std::optional<bt::Workspace> reports;
    try {
        if (!workspace.empty())
            reports.emplace(workspace, bt::Workspace::Mode::View);
    } catch (const std::exception& e) {
        return fail(std::string("--workspace: ") + e.what());
    }
    // The reader shares the classifier; it is cheap to construct.
    const std::shared_ptr<const bt::Classifier> shared(&classifier, [](const bt::Classifier*) {});
    std::optional<bt::BounceReader> only;
    try {
        if (!formats.empty())
            only.emplace(shared, formats);
    } catch (const std::invalid_argument& e) {
        return fail(std::string("--formats: ") + e.what());
    }
    const bt::BounceReader reader = only ? *only : bt::BounceReader(shared);
    std::size_t readable = 0, records = 0, errors = 0;
    auto error = [&](const std::string& file, std::size_t index, const std::string& why) {
        ++errors;
        if (json) {
            nlohmann::ordered_json j;
            j["file"] = file;
            j["message_index"] = index;
            j["error"] = why;
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
            std::cout << safe(file) << (index ? "#" + std::to_string(index) : std::string()) << ": " << safe(why)
                      << "\n\n";
        }
    };
    // Messages are read on every core; results are printed in input order.
    struct Item {
        bt::SourceMessage message;
        std::string readError; // the file could not be read: passed through in order
        bt::BounceOutcome outcome;
    };
    auto print = [&](Item&& item) {
        const auto& m = item.message;
        if (!item.readError.empty()) {
            error(m.path, 0, item.readError);
            return;
        }
        const auto& outcome = item.outcome;
        for (const auto& w : outcome.warnings)
            std::cerr << "bouncetriage-cli: " << safe(m.path) << ": a reader failed (please report): " << safe(w)
                      << '\n';
        if (outcome.kind != "unreadable")
            ++readable;
        if (outcome.records.empty()) {
            error(m.path, m.index, outcome.error);
            return;
        }
        for (const auto& r : outcome.records) {
            ++records;
            std::vector<bt::DmarcMatch> dmarc;
            if (reports && bt::dmarcRelevant(r.diagnosis.family))
                dmarc = bt::dmarcForBounce(*reports, {}, r.original.fromDomain, r.timestamp);
            if (json) {
                std::cout << bt::toJson(r, m.path, m.index, reports ? &dmarc : nullptr) << '\n';
            } else {
                std::cout << safe(m.path) << (m.index ? "#" + std::to_string(m.index) : std::string()) << ": "
                          << (r.recipient.empty() ? "(no recipient)" : safe(r.recipient)) << "  [" << r.kind << ", "
                          << r.format << "]\n"
                          << safe(bt::toCard(r.diagnosis));
                for (const auto& d : dmarc)
                    std::cout << "DMARC report: " << safe(bt::describeDmarcMatch(d)) << '\n';
                std::cout << '\n';
            }
        }
    };
    bt::OrderedPool<Item, Item> pool(
        [&reader](Item&& item) {
            if (item.readError.empty()) {
                item.outcome = reader.read(item.message.bytes);
                item.message.bytes = std::string(); // not needed past this point
            }
            return std::move(item);
        },
        [&](Item&& item) {
            // From standard input (a pipe in a bigger engine) each message's lines leave as soon
            // as it is read, not when a buffer fills.
            const bool fromStdin = item.message.path == "-";
            print(std::move(item));
            if (fromStdin)
                std::cout.flush();
        },
        jobs ? jobs : std::max(1u, std::thread::hardware_concurrency()));
    for (const auto& p : paths) {
        // Results name the file as given: the path the user typed, or the file inside a folder.
        bt::forEachMessage(
            p,
            [&](bt::SourceMessage&& m) {
                pool.submit(Item {std::move(m), {}, {}});
                return true;
            },
            [&](const std::string& file, const std::string& why) {
                bt::SourceMessage m;
                m.path = file;
                pool.submit(Item {std::move(m), why, {}});
            });
    }
    pool.finish();
    std::cout.flush();
    if (readable == 0) {
        std::cerr << "bouncetriage-cli: nothing could be read\n";
        return kExitBadInput;
    }
    return kExitOk;
}

/// A one-line progress bar on a terminal's stderr; silent when stderr is not a terminal.
class TerminalProgress : public bt::ImportObserver
{
public:
    explicit TerminalProgress(std::string name)
        : m_name(std::move(name))
        , m_tty(::isatty(2))
    {
    }
    void progress(std::uint64_t done, std::uint64_t total) override
    {
        if (!m_tty || total == 0)
            return;
        const int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
        const int width = 30;
        std::string bar(static_cast<std::size_t>(pct * width / 100), '#');
        bar.resize(width, '.');
        std::cerr << "\r" << m_name.substr(0, 40) << " [" << bar << "] " << pct << "%" << std::flush;
    }
    void done()
    {
        if (m_tty)
            std::cerr << "\r" << std::string(80, ' ') << "\r" << std::flush;
    }
    void waiting(const std::string& holder) override
    {
        // Imports into one workspace run one at a time: say why nothing moves.
        std::cerr << "bouncetriage-cli: " << safe(m_name) << ": waiting for another import into the workspace to end ("
                  << safe(holder) << ")\n"
                  << std::flush;
    }

private:
    std::string m_name;
    bool m_tty;
};

/// What --profile names: a profile file, or else a profile saved by the window (or by hand) in
/// $XDG_CONFIG_HOME/bouncetriage/profiles, by name. Throws with the saved names when neither.
std::string resolveProfile(const std::string& arg)
{
    std::error_code ec;
    if (std::filesystem::is_regular_file(arg, ec))
        return arg;
    const bool pathLike = arg.find('/') != std::string::npos || arg.ends_with(".json");
    if (!pathLike)
        if (const auto saved = bt::savedProfilePath(arg); !saved.empty())
            return saved.string();
    if (pathLike)
        throw std::runtime_error(arg + ": no such profile file");
    std::string names;
    for (const std::string& name : bt::savedProfileNames())
        names += (names.empty() ? "" : ", ") + name;
    throw std::runtime_error("--profile " + arg + ": neither a file nor a saved profile in "
                             + bt::profilesDir().string()
                             + (names.empty() ? " (none saved)" : " (saved: " + names + ")"));
}

/// The saved column profiles: "NAME<tab>FILE" per line, or JSON Lines with what each maps.
int runProfiles(bool json)
{
    const auto names = bt::savedProfileNames();
    if (names.empty() && !json)
        std::cerr << "bouncetriage-cli: no saved profiles in " << bt::profilesDir().string() << '\n';
    for (const std::string& name : names) {
        const std::string file = (bt::profilesDir() / (name + ".json")).string();
        if (!json) {
            std::cout << safe(name) << '\t' << safe(file) << '\n';
            continue;
        }
        nlohmann::ordered_json j;
        j["name"] = name;
        j["file"] = file;
        try {
            const bt::CsvProfile p = bt::CsvProfile::load(file);
            j["columns"] = p.columns;
        } catch (const std::exception& e) {
            j["error"] = e.what();
        }
        std::cout << j.dump() << '\n';
    }
    return kExitOk;
}

int runImport(const bt::Classifier& classifier, const std::string& workspace, const std::string& profileArg,
              const std::vector<std::string>& paths, bool json, const bt::ImportOptions& options)
{
    // The profile first: a wrong name must not leave a new, empty workspace behind.
    std::optional<bt::CsvProfile> profile;
    if (!profileArg.empty())
        profile = bt::CsvProfile::load(resolveProfile(profileArg));
    bt::Workspace ws(workspace);
    std::int64_t imported = 0;
    bool anyError = false;
    // A folder's exports and logs are imports of their own, each in its detected format.
    std::vector<std::string> inputs;
    for (const auto& p : paths)
        for (auto& input : bt::importInputs(p))
            inputs.push_back(std::move(input));
    for (const auto& p : inputs) {
        TerminalProgress progress(p);
        const auto r = bt::importPath(ws, p, classifier, &progress, profile ? &*profile : nullptr, options);
        progress.done();
        imported += r.counts.imported + r.counts.duplicate;
        anyError = anyError || (!r.error.empty() && !r.empty);
        const auto rejects = r.counts.rejected > 0 ? ws.rejects(r.importId) : std::vector<bt::Reject> {};
        if (json) {
            nlohmann::ordered_json j;
            j["file"] = r.file;
            j["format"] = r.format.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.format);
            j["read"] = r.counts.read;
            j["imported"] = r.counts.imported;
            j["rejected"] = r.counts.rejected;
            j["duplicate"] = r.counts.duplicate;
            j["skipped"] = r.skipped;
            if (!r.error.empty())
                j["error"] = r.error;
            if (!r.note.empty())
                j["note"] = r.note;
            if (r.cancelled)
                j["cancelled"] = true;
            // Each rejected record: the file it came from (inside a folder, its own), where, why.
            auto list = nlohmann::ordered_json::array();
            for (const auto& rej : rejects) {
                nlohmann::ordered_json x;
                x["file"] = rej.sourceFile.empty() ? r.file : rej.sourceFile;
                x["line"] = rej.sourceLine > 0 ? nlohmann::json(rej.sourceLine) : nlohmann::json(nullptr);
                x["reason"] = rej.reason;
                list.push_back(std::move(x));
            }
            j["rejects"] = std::move(list);
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
            if (!r.error.empty())
                std::cerr << "bouncetriage-cli: " << safe(r.error) << '\n';
            std::cout << safe(r.file) << " (" << (r.format.empty() ? "unknown format" : r.format) << "): read "
                      << r.counts.read << ", imported " << r.counts.imported << ", rejected " << r.counts.rejected
                      << ", duplicate " << r.counts.duplicate
                      << (r.skipped ? ", skipped " + std::to_string(r.skipped) + " (not delivery outcomes)" : "")
                      << '\n';
            if (!r.note.empty())
                std::cout << "  note: " << safe(r.note) << '\n';
            for (const auto& rej : rejects) {
                // A folder's rejections name their file; a file's own are known by their line.
                const bool other = !rej.sourceFile.empty() && rej.sourceFile != r.file;
                std::string where = other ? rej.sourceFile : std::string();
                if (rej.sourceLine > 0
                    && rej.reason.find("line " + std::to_string(rej.sourceLine)) == std::string::npos)
                    where += (where.empty() ? "line " : ":") + std::to_string(rej.sourceLine);
                std::cout << "  rejected: " << (where.empty() ? "" : safe(where) + ": ") << safe(rej.reason) << '\n';
            }
        }
    }
    // The triage window's counts, saved in the workspace now so that opening it needs no pass
    // over the events (bt::Triage::saveCache; an import or re-diagnosis clears them).
    if (imported > 0) {
        try {
            bt::Triage::saveCache(ws);
        } catch (const bt::sql::Error& e) {
            // The events are in; only the saved counts are missing (the window counts them).
            std::cerr << "bouncetriage-cli: " << safe(workspace) << ": the triage window's counts could not be saved"
                      << (e.diskFull() ? " (disk full)" : "") << ": " << safe(e.what()) << '\n';
            anyError = true;
        }
    }
    // Rejected rows are not a failure; an input that cannot be read at all is bad input (said
    // above), and inputs read without a single event are nothing done.
    if (anyError)
        return kExitBadInput;
    return imported > 0 ? kExitOk : kExitNothingDone;
}

int runReport(const std::string& workspace, const std::string& by, const std::vector<std::string>& filters, bool json)
{
    checkFilters(filters);
    bt::Workspace ws(workspace, bt::Workspace::Mode::View); // reading writes nothing
    const bt::EventFilter filter = readFilters(ws, filters);
    const auto rows = bt::Triage().groups(ws, *bt::groupByFromString(by), filter);
    // By sending IP, both sides: the bounces and what the receivers' DMARC aggregate reports say
    // of the same IP (all reports in the workspace, whatever the filter).
    std::map<std::string, bt::DmarcSource> dmarc;
    if (*bt::groupByFromString(by) == bt::GroupBy::Ip)
        for (auto& src : bt::dmarcSources(ws))
            dmarc.emplace(src.sourceIp, std::move(src));
    auto dmarcOf = [&](const std::string& ip) -> const bt::DmarcSource* {
        const auto it = dmarc.find(ip);
        return it == dmarc.end() ? nullptr : &it->second;
    };
    if (json) {
        for (const auto& r : rows) {
            nlohmann::ordered_json j;
            j["key"] = r.key;
            j["bounces"] = r.bounces;
            j["deferrals"] = r.deferrals;
            j["deliveries"] = r.deliveries;
            j["complaints"] = r.complaints;
            j["rate"] = r.rate;
            j["rate_basis"] = r.rateBasis;
            // The rate's own numbers: rate_bounces ÷ sent ("sent", "given"); bounces from sources
            // that record no sends, left out of a "sent" rate.
            j["sent"] = r.rateBasis == "share" ? nlohmann::json(nullptr) : nlohmann::json(r.sent);
            j["rate_bounces"] = r.rateBounces;
            j["outside_basis"] = r.outsideBasis;
            j["level"] = r.level.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.level);
            j["families"] = r.families;
            j["lifted_later"] = r.liftedLater;
            if (!dmarc.empty()) {
                if (const auto* d = dmarcOf(r.key))
                    j["dmarc"] = {{"messages", d->messages}, {"dmarc_pass", d->dmarcPass}, {"dkim_pass", d->dkimPass},
                                  {"spf_pass", d->spfPass},  {"reports", d->reports},      {"first_day", d->firstDay},
                                  {"last_day", d->lastDay}};
                else
                    j["dmarc"] = nullptr;
            }
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        }
        return kExitOk;
    }
    // Every number the JSON has: deferrals, complaints and bounces a later delivery lifted too,
    // and each row's basis: of sent (with how many sent), of given sends, or of bounces.
    std::cout << std::left << std::setw(40) << by << std::right << std::setw(9) << "bounces" << std::setw(10)
              << "deferred" << std::setw(11) << "complaints" << std::setw(11) << "delivered" << std::setw(9) << "rate"
              << "  " << std::left << std::setw(18) << "of" << std::right << std::setw(6) << "level" << std::setw(8)
              << "lifted" << std::setw(9) << "unrated" << (dmarc.empty() ? "" : "  dmarc pass        ")
              << "  families\n";
    bool anyShare = false, anyUnrated = false, anyGiven = false;
    for (const auto& r : rows) {
        std::string fam;
        for (const auto& [f, n] : r.families)
            fam += (fam.empty() ? "" : ", ") + f + " " + std::to_string(n);
        std::ostringstream rate;
        rate << std::fixed << std::setprecision(1) << 100 * r.rate << "%";
        const std::string basis = r.rateBasis == "share" ? std::string("bounces")
            : r.rateBasis == "given"                     ? std::to_string(r.sent) + " given"
                                                         : std::to_string(r.sent) + " sent";
        anyShare = anyShare || r.rateBasis == "share";
        anyGiven = anyGiven || r.rateBasis == "given";
        anyUnrated = anyUnrated || r.outsideBasis > 0;
        const std::string key = clip(
            r.key == bt::kNoneKey ? std::string(bt::unknownGroupLabel(*bt::groupByFromString(by))) : safe(r.key), 39);
        // setw counts bytes: pad by characters so non-ASCII keys keep the columns straight.
        std::size_t chars = 0;
        for (const char c : key)
            chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        std::cout << key << std::string(40 - std::min<std::size_t>(chars, 40), ' ') << std::right << std::setw(9)
                  << r.bounces << std::setw(10) << r.deferrals << std::setw(11) << r.complaints << std::setw(11)
                  << r.deliveries << std::setw(9) << rate.str() << "  " << std::left << std::setw(18) << basis
                  << std::right << std::setw(6) << r.level << std::setw(8) << r.liftedLater << std::setw(9)
                  << (r.outsideBasis ? std::to_string(r.outsideBasis) : std::string());
        if (!dmarc.empty()) {
            // "62.3% of 212": the share of the IP's reported messages that passed DMARC.
            std::ostringstream d;
            if (const auto* src = dmarcOf(r.key); src && src->messages > 0)
                d << std::fixed << std::setprecision(1) << 100.0 * double(src->dmarcPass) / double(src->messages)
                  << "% of " << src->messages;
            std::cout << "  " << std::left << std::setw(18) << d.str() << std::right;
        }
        std::cout << "  " << safe(fam) << '\n';
    }
    if (!bt::groupsCarryDeliveries(*bt::groupByFromString(by)) && !rows.empty())
        std::cout << "of bounces: a " << by
                  << " belongs to bounces only (deliveries have none): each row is its share of all bounces\n";
    else if (anyShare)
        std::cout << "of bounces: no source in this workspace records this group's sends (bounce emails and "
                     "bounce exports do not): its share of all bounces, no level\n";
    if (anyUnrated)
        std::cout << "unrated: bounces from sources that record no sends, left out of the rate of sent\n";
    if (anyGiven)
        std::cout << "given: the send count imported with 'bouncetriage-cli sends'\n";
    if (!rows.empty())
        std::cout << "lifted: policy or reputation bounces to a domain that a later delivery shows was let in\n";
    if (!dmarc.empty()) {
        std::size_t onlyReported = 0;
        std::int64_t messages = 0;
        for (const auto& [ip, src] : dmarc)
            if (std::none_of(rows.begin(), rows.end(), [&key = ip](const bt::GroupRow& r) { return r.key == key; })) {
                ++onlyReported;
                messages += src.messages;
            }
        std::cout << "dmarc pass: the IP's messages that passed DMARC in the workspace's aggregate reports";
        if (onlyReported)
            std::cout << "; " << onlyReported << " more IPs appear in the reports only (" << messages << " messages)";
        std::cout << '\n';
    }
    return kExitOk;
}

int runSends(const std::string& workspace, const std::string& file, bool clear)
{
    if (file.empty() && !clear) {
        // Listing reads only.
        bt::Workspace ws(workspace, bt::Workspace::Mode::View);
        const auto counts = bt::sendCounts(ws);
        for (const auto& c : counts)
            std::cout << c.kind << ',' << bt::csvEscape(safe(c.key)) << ',' << c.sent << '\n';
        return counts.empty() ? kExitNothingDone : kExitOk;
    }
    bt::Workspace ws(workspace);
    if (clear)
        std::cout << "removed " << bt::clearSendCounts(ws) << " send counts\n";
    if (file.empty())
        return kExitOk;
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return fail(file + ": cannot be read");
    const auto read = bt::readSendCounts(in, std::filesystem::path(file).filename().string());
    for (const auto& e : read.errors)
        std::cerr << "bouncetriage-cli: " << safe(file) << ": " << safe(e) << '\n';
    if (read.counts.empty())
        return read.errors.empty() ? kExitNothingDone : kExitBadInput;
    std::cout << "stored " << bt::storeSendCounts(ws, read.counts) << " " << read.counts.front().kind
              << " send counts from " << safe(file) << '\n';
    return read.errors.empty() ? kExitOk : kExitBadInput;
}

int runIncidents(const std::string& workspace, const std::string& by, const std::vector<std::string>& filters,
                 bool hourly, bool json)
{
    checkFilters(filters);
    bt::Workspace ws(workspace, bt::Workspace::Mode::View); // reading writes nothing
    const bt::EventFilter filter = readFilters(ws, filters);
    const auto list = bt::Triage().incidents(ws, *bt::groupByFromString(by), filter, hourly);
    for (const auto& i : list) {
        if (json) {
            nlohmann::ordered_json j;
            j["key"] = i.key;
            j["family"] = i.family;
            j["bucket"] = i.bucket; // where it starts
            j["end"] = i.end;
            j["buckets"] = i.buckets;
            j["bounces"] = i.bounces;
            j["peak"] = i.peak;
            j["peak_bounces"] = i.peakBounces;
            j["baseline"] = i.baseline;
            j["rate"] = i.rate;
            j["lifted"] = i.lifted;
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
            std::cout << i.bucket << (i.end != i.bucket ? " to " + i.end : std::string()) << "  " << safe(i.key) << "  "
                      << safe(i.family) << ": " << i.bounces << " bounces in " << i.buckets
                      << (hourly ? " hour(s)" : " day(s)") << ", peak " << i.peakBounces << " at " << i.peak
                      << " (baseline " << std::fixed << std::setprecision(1) << i.baseline << " per "
                      << (hourly ? "hour" : "day") << ")"
                      << (i.lifted.empty() ? std::string() : "; deliveries again from " + i.lifted) << "\n";
        }
    }
    if (!json && list.empty())
        std::cout << "no incidents\n";
    return kExitOk;
}

int runSuppressions(const std::string& workspace, const std::vector<std::string>& filters)
{
    checkFilters(filters);
    bt::Workspace ws(workspace, bt::Workspace::Mode::View); // reading writes nothing
    const bt::EventFilter filter = readFilters(ws, filters);
    // CSV is data, as JSON is: fields are quoted, not escaped.
    bt::writeSuppressionsCsv(ws, filter, std::cout);
    return kExitOk;
}

struct LookupArgs {
    std::string workspace, server;
    int timeoutMs = 3000, deadlineMs = 60000, maxDomains = 500;
};

// Providers of recipient domains no table knows, from their MX (asked only here, on request).
int runLookupProviders(const LookupArgs& args, const bt::KnowledgeBase& kb)
{
    bt::Workspace ws(args.workspace);
    bt::dns::Options options;
    options.server = args.server;
    options.timeoutMs = args.timeoutMs;
    options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(100, args.deadlineMs));
    const auto r = bt::lookUpProviders(ws, kb, options, args.maxDomains);
    for (const auto& d : r.domains) {
        std::cout << safe(d.domain) << ": ";
        if (!d.provider.empty())
            std::cout << safe(d.provider) << " (MX " << safe(d.mx) << "), " << d.events << " events";
        else if (d.status == "ok")
            std::cout << "no provider table names its MX" << (d.mx.empty() ? "" : " " + safe(d.mx));
        else
            std::cout << "MX lookup: " << d.status;
        std::cout << (d.cached ? " [cached]" : "") << '\n';
    }
    std::cout << r.domains.size() << " domains asked (" << (r.server.empty() ? "system resolver" : safe(r.server))
              << "), " << r.events << " events given a provider\n";
    if (r.events > 0)
        bt::Triage::saveCache(ws); // the window's counts by provider, saved again
    return r.events > 0 ? kExitOk : kExitNothingDone;
}

struct CheckArgs {
    std::vector<std::string> targets, selectors, zones;
    std::string ip, server, workspace, sender;
    int timeoutMs = 3000, deadlineMs = 30000;
    bool json = false, noBlocklists = false;
};

// One report per domain (with the IP), or per IP when no domain is given.
int runCheck(const CheckArgs& args, std::shared_ptr<const bt::KnowledgeBase> kb)
{
    std::vector<std::string> domains, ips;
    if (!args.ip.empty())
        ips.push_back(args.ip);
    for (const auto& t : args.targets)
        (bt::dns::isIpAddress(t) ? ips : domains).push_back(t);
    std::vector<bt::CheckRequest> requests;
    for (const auto& d : domains)
        requests.push_back({d, ips.empty() ? std::string() : ips.front(), args.sender, args.selectors});
    for (std::size_t i = domains.empty() ? 0 : 1; i < ips.size(); ++i)
        requests.push_back({{}, ips[i], {}, {}});
    if (requests.empty())
        return fail("check: name a domain or an IP");
    std::unique_ptr<bt::Workspace> ws;
    if (!args.workspace.empty())
        ws = std::make_unique<bt::Workspace>(args.workspace);
    bt::CheckOptions options;
    options.dnsServer = args.server;
    options.timeoutMs = args.timeoutMs;
    options.deadlineMs = args.deadlineMs;
    // One deadline for the whole run, however many targets: each used to get its own.
    options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(100, args.deadlineMs));
    options.knowledge = std::move(kb);
    options.blocklists = !args.noBlocklists;
    options.blocklistZones = args.zones;
    options.workspace = ws.get();
    std::vector<std::string> out;
    bool started = true;
    for (const auto& r : requests) {
        const auto report = bt::runChecks(r, options);
        started = started && report.error.empty();
        if (args.json) {
            out.push_back(bt::toJson(report));
            continue;
        }
        // Findings quote TXT records, which anyone can publish: control characters are escaped.
        std::cout << safe(r.domain.empty() ? r.ip : r.domain + (r.ip.empty() ? "" : " from " + r.ip)) << " (DNS server "
                  << safe(report.server) << ", " << report.durationMs << " ms)\n";
        for (const auto& f : report.findings)
            std::cout << "  " << safe(f) << "\n";
    }
    if (args.json) {
        if (out.size() == 1) {
            std::cout << out.front() << "\n";
        } else {
            std::cout << "[";
            for (std::size_t i = 0; i < out.size(); ++i)
                std::cout << (i ? "," : "") << out[i];
            std::cout << "]\n";
        }
    }
    return started ? kExitOk : kExitBadInput;
}

struct TestMessageArgs {
    std::string file, server;
    std::vector<std::string> zones;
    int timeoutMs = 3000, deadlineMs = 30000;
    bool json = false, offline = false;
};

/// `test-message FILE`: the message tester's checklist (core/tester.h), as text or one JSON object.
int runTestMessage(const TestMessageArgs& args, std::shared_ptr<const bt::KnowledgeBase> kb)
{
    const std::string name = args.file == "-" ? std::string("standard input") : args.file;
    std::ifstream file;
    std::istream* in = &std::cin;
    if (args.file != "-") {
        std::error_code ec;
        if (std::filesystem::is_directory(args.file, ec))
            return fail(args.file + ": is a folder, not a file");
        file.open(args.file, std::ios::binary);
        if (!file)
            return fail(args.file + ": cannot be read");
        in = &file;
    }
    std::ostringstream ss;
    ss << in->rdbuf();
    if (in->bad())
        return fail(name + ": read error");
    const std::string text = ss.str();
    if (const std::string why = bt::binaryReason(std::string_view(text).substr(0, 8 * 1024)); !why.empty())
        return fail(name + ": not a text file: " + why);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        return fail(name + ": is empty, no message to test", kExitNothingDone);
    bt::TesterOptions options;
    options.dnsServer = args.server;
    options.offline = args.offline;
    options.timeoutMs = args.timeoutMs;
    options.deadlineMs = args.deadlineMs;
    options.knowledge = std::move(kb);
    options.blocklistZones = args.zones;
    bt::TesterReport report;
    try {
        report = bt::testMessage(text, options);
    } catch (const bt::TesterInputError& e) {
        return fail(name + ": " + e.what());
    }
    if (args.json)
        std::cout << bt::toJson(report) << '\n';
    else // evidence quotes headers and TXT records anyone can write: control characters escaped
        std::cout << safe(bt::toText(report));
    if (!report.dnsError.empty())
        return fail("test-message: DNS could not start: " + report.dnsError);
    return kExitOk;
}

/// `diagnose --explain NAME`: what a brief result leaves out, once — the explanation, steps and
/// references of a rule (as its results carry them: a lexicon rule or one without texts of its own
/// has its reason's) or of a reason.
int runExplain(const bt::KnowledgeBase& kb, const std::string& name, bool json)
{
    const auto& rules = kb.rules();
    const auto rule = std::find_if(rules.begin(), rules.end(), [&](const bt::Rule& r) { return r.id == name; });
    const std::string reason = rule != rules.end() ? rule->reason : name;
    const bt::ReasonInfo* info = kb.reasonInfo(reason);
    if (rule == rules.end() && !info)
        return fail("--explain: no rule or reason is called \"" + name + "\"");
    std::string explanation = rule != rules.end() ? rule->explanation : std::string();
    std::vector<std::string> steps = rule != rules.end() ? rule->steps : std::vector<std::string>();
    const std::vector<std::string> references = rule != rules.end() ? rule->references : std::vector<std::string>();
    if (explanation.empty() && info)
        explanation = info->explanation;
    if (steps.empty() && info)
        steps = info->steps;
    if (json) {
        std::string out;
        bt::json::Writer w(out);
        w.beginObject();
        w.key("name").value(name);
        w.key("kind").value(rule != rules.end() ? "rule" : "reason");
        w.key("reason").value(reason);
        w.key("explanation").value(explanation);
        w.key("steps").strings(steps);
        w.key("references").strings(references);
        w.endObject();
        std::cout << out << '\n';
        return kExitOk;
    }
    std::cout << (rule != rules.end() ? "Rule:         " : "Reason:       ") << name << '\n';
    if (rule != rules.end())
        std::cout << "Reason:       " << reason << '\n';
    std::cout << "Explanation:  " << explanation << '\n';
    if (!steps.empty()) {
        std::cout << "Next steps (cheapest first):\n";
        for (std::size_t i = 0; i < steps.size(); ++i)
            std::cout << "  " << i + 1 << ". " << steps[i] << '\n';
    }
    for (const auto& r : references)
        std::cout << "Reference:    " << r << '\n';
    return kExitOk;
}

/// Writes all of `data` to a file descriptor (a pipe takes it in parts); false on an error.
bool writeAll(int fd, std::string_view data)
{
    while (!data.empty()) {
        const auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// `diagnose --lines`: one result per input line, in order — blank lines too, so output line N
/// answers input line N. Streams with flat memory whatever the input size, and keeps a pipe
/// moving: each read's whole lines are one batch, diagnosed on a worker (every core takes
/// batches) and written by whichever thread finishes the next batch in order, while the reading
/// thread may be waiting for more input — so a co-process (Spark's RDD.pipe, a ClickHouse
/// executable function, a script that writes a line and reads the answer) gets each answer
/// without sending more, while bulk input moves in 64 KB blocks with both cores diagnosing and
/// no core idle while the other writes. Repeated replies (a bulk export repeats a few hundred
/// templates) are answered from a bounded memo of their printed form, one per worker so no lock
/// is taken per line. The first read (up to 8 KB) says whether the input is text.
int runDiagnoseLines(const bt::Classifier& classifier, int fd, const std::string& inputName, bool json, bool brief)
{
    std::cout.flush();
    const auto detail = brief ? bt::JsonDetail::Brief : bt::JsonDetail::Full;
    // Brief JSON prints none of the reason's texts: the classifier need not copy them.
    const auto texts = json && brief ? bt::Classifier::Texts::Omit : bt::Classifier::Texts::Include;
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // ≤ 16 384 printed answers in all (~25 MB at most), shared out among the workers. A reply is
    // kept only when it comes a second time (its hash was seen): a stream of distinct replies
    // then costs a hash per line, where copying each answer into the memo and freeing it at
    // the next clear cost ~10 % of the time, while a bulk export's templates still come from it.
    const std::size_t memoSize = std::max<std::size_t>(1024, 16384 / cores);
    struct WorkerMemo {
        explicit WorkerMemo(std::size_t size)
            : answers(size)
            , seen(std::bit_ceil(8 * size), 0)
        {
        }
        bt::BoundedMemo<std::string> answers;
        /// Hashes of the replies met since the last clear: open addressing, at most half full
        /// (a node per distinct reply in a std::unordered_set was an allocation and a free per
        /// line of a stream of distinct replies). 0 marks an empty slot.
        std::vector<std::size_t> seen;
        std::size_t seenCount = 0;
        /// True when `hash` was met before; remembers it otherwise.
        bool metBefore(std::size_t hash)
        {
            hash |= 1; // never 0
            if (2 * seenCount >= seen.size()) {
                std::fill(seen.begin(), seen.end(), 0);
                seenCount = 0;
            }
            const std::size_t mask = seen.size() - 1;
            for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
                if (seen[at] == hash)
                    return true;
                if (seen[at] == 0) {
                    seen[at] = hash;
                    ++seenCount;
                    return false;
                }
            }
        }
    };
    std::mutex memosMutex;
    std::deque<WorkerMemo> memos; // a deque: a worker's memo never moves
    auto workerMemo = [&]() -> WorkerMemo& {
        // The pool's threads live for this call only, so a worker's first batch makes its memo.
        thread_local WorkerMemo* mine = nullptr;
        if (!mine) {
            std::lock_guard lock(memosMutex);
            mine = &memos.emplace_back(memoSize);
        }
        return *mine;
    };
    auto renderBatch = [&](std::string&& bytes) {
        auto& memo = workerMemo();
        std::string out;
        out.reserve(bytes.size() * 8);
        std::string_view rest(bytes);
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            auto line = rest.substr(0, nl);
            rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (const auto* known = memo.answers.find(line)) {
                out += *known;
            } else {
                const auto d = classifier.diagnoseText(line, texts);
                std::string answer = json ? bt::toJson(d, detail) : safe(bt::toCard(d));
                out += answer;
                if (memo.metBefore(std::hash<std::string_view> {}(line)))
                    memo.answers.put(line, std::move(answer));
            }
            out += '\n';
        }
        return out;
    };
    std::atomic<int> writeError {0};
    auto writeOut = [&](std::string&& out) {
        if (writeError.load(std::memory_order_relaxed) == 0 && !writeAll(1, out))
            writeError.store(errno ? errno : EIO, std::memory_order_relaxed);
    };
    std::string pending;
    std::vector<char> chunk(64 * 1024);
    bool checked = false;
    int readError = 0;
    {
        // A window of 4 batches a core: memory stays at a few MB whatever the input's size.
        bt::OrderedPool<std::string, std::string> pool(renderBatch, writeOut, cores, 4 * cores);
        while (writeError.load(std::memory_order_relaxed) == 0) {
            const auto n = ::read(fd, chunk.data(), chunk.size());
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                readError = errno;
                break;
            }
            if (n == 0)
                break;
            pending.append(chunk.data(), static_cast<std::size_t>(n));
            if (!checked) {
                // What the first read brings (up to 8 KB; a co-process's first line may be all
                // there is until it is answered) says whether this is text at all.
                if (const std::string why = bt::binaryReason(std::string_view(pending).substr(0, 8 * 1024));
                    !why.empty())
                    return fail(inputName + ": not a text file: " + why);
                checked = true;
            }
            const auto lastNl = pending.rfind('\n');
            if (lastNl == std::string::npos)
                continue; // no whole line yet
            std::string rest = pending.substr(lastNl + 1);
            pending.resize(lastNl + 1);
            pool.submit(std::move(pending));
            pending = std::move(rest);
        }
        if (readError == 0 && writeError.load() == 0 && !pending.empty())
            pool.submit(std::move(pending)); // a last line without a newline
        pool.finish();
    }
    if (const int e = writeError.load())
        return fail("standard output: " + std::string(std::strerror(e)));
    if (readError != 0)
        return fail(inputName + ": read error: " + std::strerror(readError));
    if (!checked)
        return fail(inputName + ": is empty, nothing to diagnose", kExitNothingDone);
    return kExitOk;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app {"Bounce Triage: tells why an email bounced", "bouncetriage-cli"};
    app.set_version_flag("--version", std::string("bouncetriage-cli ") + BT_VERSION, "Print the version and exit");
    app.require_subcommand(1);
    app.footer(kExitCodesHelp);
    std::vector<std::string> ruleFiles;
    app.add_option("--rules", ruleFiles, "Extra rules file(s) overriding the shipped rules by id")
        ->check(CLI::ExistingFile);

    auto* diagnose = app.add_subcommand("diagnose", "Diagnose one bounce: a reply line, an NDR text or a bounce email");
    bool json = false;
    bool lines = false;
    std::string input = "-";
    diagnose->add_flag("--json", json, "Print JSON (JSON Lines with --lines)");
    diagnose->add_flag("--lines", lines, "Treat every input line as a separate reply, one result per line");
    diagnose->add_option("input", input, "File to read, or - for standard input")->capture_default_str();
    bool brief = false;
    diagnose->add_flag("--brief", brief,
                       "With --json: leave out explanation, steps and references, which are the same for every reply "
                       "of a rule (diagnose --explain RULE prints them once)");
    std::string explain;
    diagnose->add_option("--explain", explain,
                         "Print the explanation, steps and references of a rule (an id from a result's \"rules\") or "
                         "of a reason, and exit");

    auto* parse = app.add_subcommand(
        "parse",
        "Read bounce emails (.eml files, folders such as maildir, mbox files): one result per bounced recipient");
    bool parseJson = false;
    std::vector<std::string> parsePaths;
    parse->add_flag("--json", parseJson, "Print JSON Lines");
    parse
        ->add_option("paths", parsePaths,
                     "Files, folders or mbox files; - reads standard input (an mbox stream or one message)")
        ->required();
    unsigned parseJobs = 0;
    parse->add_option("--jobs", parseJobs, "Threads reading messages (default: one per core)");
    std::string parseWorkspace;
    parse->add_option("--workspace", parseWorkspace,
                      "A workspace holding DMARC aggregate reports: each auth or policy result gets what they saw "
                      "of its From domain on its day (\"dmarc\" in JSON)");
    std::vector<std::string> parseFormats;
    parse
        ->add_option("--formats", parseFormats,
                     "Read with these format modules only, comma-separated (e.g. arf,auto_reply,rfc3464,generic: "
                     "what a bounce from an MTA no module knows would give)")
        ->delimiter(',');

    auto* importCmd = app.add_subcommand(
        "import",
        "Import into a workspace: bounce emails (.eml, maildir, mbox); SendGrid, Mailgun, Postmark, "
        "SparkPost, Mandrill, Brevo, Amazon SES exports and webhook dumps; Microsoft 365 message traces; "
        "Postfix and Exim logs; DMARC aggregate reports (XML, .xml.gz, .zip, or the report e-mails: .eml, "
        "mbox, maildir); any CSV with --profile");
    std::string workspacePath, profilePath;
    bool importJson = false;
    std::vector<std::string> importPaths;
    importCmd->add_option("--workspace", workspacePath, "Workspace file (created if missing)")->required();
    importCmd->add_option("--profile", profilePath,
                          "Column profile for a CSV no importer knows: a JSON file, or the name of a saved "
                          "profile (bouncetriage-cli profiles lists them)");
    importCmd->add_flag("--json", importJson, "One JSON object per input");
    bt::ImportOptions importOptions;
    importCmd
        ->add_option("--year", importOptions.year,
                     "Year of the first dated line of a log whose lines carry none (syslog, Postfix); later lines "
                     "follow it, into the next year after 31 Dec (default: inferred from the file's modification "
                     "time)")
        ->check(CLI::Range(1970, 9999));
    importCmd->add_option("--postfix-config", importOptions.postfixConfig,
                          "Postfix's configuration folder (/etc/postfix): its smtp_bind_address is the sending IP "
                          "of a Postfix log's deliveries, which Postfix does not log");
    importCmd->add_option("paths", importPaths, "Files or folders")->required();

    auto* profilesCmd = app.add_subcommand(
        "profiles", "List the saved column profiles ($XDG_CONFIG_HOME/bouncetriage/profiles), shared with the window");
    bool profilesJson = false;
    profilesCmd->add_flag("--json", profilesJson, "JSON Lines: name, file and the columns mapped");

    auto* reportCmd = app.add_subcommand("report", "Bounces, rate and level per group");
    std::string reportWorkspace, reportBy = "provider";
    bool reportJson = false;
    reportCmd->add_option("--workspace", reportWorkspace, "Workspace file")->required();
    // Every grouping of the field table (bt::groupings), by its name.
    std::vector<std::string> groupNames;
    for (const bt::GroupBy by : bt::groupings())
        groupNames.emplace_back(bt::groupName(by));
    std::string groupHelp;
    for (const auto& n : groupNames) {
        if (!groupHelp.empty())
            groupHelp += '|';
        groupHelp += n;
    }
    reportCmd->add_option("--by", reportBy, groupHelp)->check(CLI::IsMember(groupNames));
    // The window's --filter keys, read by the same core function (bt::applyFilterOption).
    const std::string filterHelp
        = "KEY=VALUE, repeatable (a key given twice matches either value): " + bt::filterOptionHelp();
    std::vector<std::string> reportFilters, incidentsFilters, suppressFilters;
    reportCmd->add_option("--filter", reportFilters, filterHelp);
    reportCmd->add_flag("--json", reportJson, "JSON Lines, one group per line");

    auto* sendsCmd = app.add_subcommand(
        "sends",
        "Send counts known from the ESP, the basis of a group's rate where no source records sends: "
        "import a CSV (header provider,sent or campaign,sent or day,sent), list them, or --clear");
    std::string sendsWorkspace, sendsFile;
    bool sendsClear = false;
    sendsCmd->add_option("--workspace", sendsWorkspace, "Workspace file")->required();
    sendsCmd->add_flag("--clear", sendsClear, "Remove every stored send count (before importing FILE, if given)");
    sendsCmd->add_option("file", sendsFile, "CSV to import; without it the stored counts are listed");

    auto* lookupCmd = app.add_subcommand(
        "lookup-providers",
        "Ask DNS for the MX of recipient domains without a known provider (company domains at Microsoft 365, "
        "Google Workspace…) and give their events the provider it names; answers kept in the workspace for "
        "their TTL");
    LookupArgs lookupArgs;
    lookupCmd->add_option("--workspace", lookupArgs.workspace, "Workspace file")->required();
    lookupCmd->add_option("--dns-server", lookupArgs.server,
                          "Resolver to ask, HOST or HOST:PORT (default: the system's)");
    lookupCmd->add_option("--timeout-ms", lookupArgs.timeoutMs, "Per DNS question, retries included")
        ->capture_default_str();
    lookupCmd->add_option("--deadline-ms", lookupArgs.deadlineMs, "For the whole run")->capture_default_str();
    lookupCmd
        ->add_option("--max-domains", lookupArgs.maxDomains, "Ask about at most this many domains, most events first")
        ->capture_default_str();

    auto* suppressCmd = app.add_subcommand("suppressions", "CSV of addresses to stop mailing");
    std::string suppressWorkspace;
    suppressCmd->add_option("--workspace", suppressWorkspace, "Workspace file")->required();
    suppressCmd->add_option("--filter", suppressFilters, filterHelp);

    auto* incidentsCmd = app.add_subcommand("incidents", "Spikes of one family at one provider or sending IP");
    std::string incidentsWorkspace, incidentsBy = "provider";
    bool incidentsDaily = false, incidentsJson = false;
    incidentsCmd->add_option("--workspace", incidentsWorkspace, "Workspace file")->required();
    // Not by reason: a reason belongs to one family, so its spikes are those of a family; narrow
    // to a reason with --filter reason=… instead.
    incidentsCmd->add_option("--by", incidentsBy, "provider|ip")->check(CLI::IsMember({"provider", "ip"}));
    incidentsCmd->add_option("--filter", incidentsFilters, filterHelp);
    incidentsCmd->add_flag("--daily", incidentsDaily, "Compare days instead of hours");
    incidentsCmd->add_flag("--json", incidentsJson, "JSON Lines");

    auto* checkCmd = app.add_subcommand(
        "check",
        "DNS checks of a sending domain and IP: SPF (verdict for --ip), DMARC, DKIM keys, MX, PTR, blocklists");
    CheckArgs checkArgs;
    checkCmd->add_flag("--json", checkArgs.json, "One JSON object (an array for several targets)");
    checkCmd->add_option("--dns-server", checkArgs.server,
                         "Resolver to ask, HOST or HOST:PORT (default: the system's)");
    checkCmd->add_option("--ip", checkArgs.ip, "Sending IP: SPF verdict, PTR and IP blocklists");
    checkCmd->add_option("--selector", checkArgs.selectors, "DKIM selector to look up (repeatable)");
    checkCmd->add_option("--sender", checkArgs.sender, "MAIL FROM address for SPF macros");
    checkCmd->add_option("--timeout-ms", checkArgs.timeoutMs, "Per DNS question, retries included")
        ->capture_default_str();
    checkCmd->add_option("--deadline-ms", checkArgs.deadlineMs, "For the whole run, all targets together")
        ->capture_default_str();
    checkCmd->add_option("--blocklist", checkArgs.zones, "Query only this blocklist zone (repeatable)");
    checkCmd->add_flag("--no-blocklists", checkArgs.noBlocklists, "Skip the blocklists");
    checkCmd->add_option("--workspace", checkArgs.workspace, "Cache answers in this workspace (for their TTL)");
    checkCmd->add_option("targets", checkArgs.targets, "Domains and/or IPs")->required();

    auto* testCmd = app.add_subcommand(
        "test-message",
        "Test a received message (.eml, headers or \"Show original\"): connecting IP, SPF, DKIM "
        "signatures, ARC, DMARC, alignment, PTR, blocklists, List-Unsubscribe, Message-ID, Date, TLS");
    TestMessageArgs testArgs;
    testCmd->add_flag("--json", testArgs.json,
                      "One JSON object {ip, from_domain, checks: [{id, status, detail, evidence}]}");
    testCmd->add_option("--dns-server", testArgs.server, "Resolver to ask, HOST or HOST:PORT (default: the system's)");
    testCmd->add_flag("--offline", testArgs.offline, "No DNS: only what the message itself shows");
    testCmd->add_option("--timeout-ms", testArgs.timeoutMs, "Per DNS question, retries included")
        ->capture_default_str();
    testCmd->add_option("--deadline-ms", testArgs.deadlineMs, "For all DNS of the test")->capture_default_str();
    testCmd->add_option("--blocklist", testArgs.zones, "Query only this blocklist zone (repeatable)");
    testCmd->add_option("file", testArgs.file, "The message, or - for standard input")->required();

    WatchCommands watchCommands;
    addWatchCommands(app, watchCommands);

    // A workspace is checked when it is opened, not by CLI11: a missing, unreadable or foreign
    // file is then a message naming it and why, with exit code 2 like any other bad input.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version end here too, with 0; everything else is a usage error (CLI11's
        // own codes, 105 and up, mean nothing to a shell).
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }

    if (*profilesCmd)
        return runProfiles(profilesJson);

    // Reading a workspace needs no knowledge: answered before the rules and the model are
    // loaded (which takes most of a report's 200 ms otherwise).
    try {
        if (*reportCmd)
            return runReport(reportWorkspace, reportBy, reportFilters, reportJson);
        if (*suppressCmd)
            return runSuppressions(suppressWorkspace, suppressFilters);
        if (*sendsCmd)
            return runSends(sendsWorkspace, sendsFile, sendsClear);
        if (*incidentsCmd)
            return runIncidents(incidentsWorkspace, incidentsBy, incidentsFilters, !incidentsDaily, incidentsJson);
        if (watchCommands.any() && !watchNeedsClassifier(watchCommands))
            return runWatchCommands(watchCommands, nullptr, nullptr);
    } catch (const std::exception& e) {
        return fail(e.what());
    }

    std::shared_ptr<bt::KnowledgeBase> kb;
    try {
        std::vector<std::filesystem::path> extra(ruleFiles.begin(), ruleFiles.end());
        kb = bt::KnowledgeBase::loadWithOverrides(extra);
    } catch (const bt::KnowledgeError& e) {
        return fail(e.what());
    }
    std::unique_ptr<bt::Classifier> classifier;
    try {
        classifier = std::make_unique<bt::Classifier>(kb);
    } catch (const bt::KnowledgeError& e) {
        return fail(e.what());
    }

    if (*parse)
        leave(runParse(*classifier, parsePaths, parseJson, parseJobs, parseFormats, parseWorkspace));
    try {
        if (*importCmd)
            return runImport(*classifier, workspacePath, profilePath, importPaths, importJson, importOptions);
        if (*lookupCmd)
            return runLookupProviders(lookupArgs, *kb);
        if (*checkCmd)
            return runCheck(checkArgs, kb);
        if (*testCmd)
            return runTestMessage(testArgs, kb);
        if (watchCommands.any())
            return runWatchCommands(watchCommands, classifier.get(), kb);
    } catch (const std::exception& e) {
        return fail(e.what());
    }

    if (!explain.empty())
        return runExplain(*kb, explain, json);
    if (lines) {
        int fd = 0;
        if (input != "-") {
            std::error_code ec;
            if (std::filesystem::is_directory(input, ec))
                return fail(input + ": is a folder, not a file");
            fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return fail(input + ": cannot be read");
        }
        const int rc
            = runDiagnoseLines(*classifier, fd, input == "-" ? std::string("standard input") : input, json, brief);
        if (fd != 0)
            ::close(fd);
        leave(rc);
    }

    std::ifstream file;
    std::istream* in = &std::cin;
    if (input != "-") {
        std::error_code ec;
        if (std::filesystem::is_directory(input, ec))
            return fail(input + ": is a folder, not a file");
        file.open(input, std::ios::binary);
        if (!file)
            return fail(input + ": cannot be read");
        in = &file;
    }

    auto print = [&](const bt::Diagnosis& d) {
        if (json)
            std::cout << bt::toJson(d, brief ? bt::JsonDetail::Brief : bt::JsonDetail::Full) << '\n';
        else
            std::cout << safe(bt::toCard(d)) << '\n';
    };
    const std::string inputName = input == "-" ? std::string("standard input") : input;

    std::ostringstream ss;
    ss << in->rdbuf();
    if (in->bad())
        return fail(input + ": read error");
    const std::string text = ss.str();
    // Binary input is said to be, never printed back as a 200 KB "Reply".
    if (const std::string why = bt::binaryReason(std::string_view(text).substr(0, 8 * 1024)); !why.empty())
        return fail(inputName + ": not a text file: " + why);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        return fail(inputName + ": is empty, nothing to diagnose", kExitNothingDone);
    // A whole bounce email goes through the reader `parse` and `import` use (one record per
    // bounced recipient, the same codes and verdicts); a reply or an NDR text through the
    // classifier. One core function decides, the Diagnose view calls it too.
    const bt::BounceReader reader(
        std::shared_ptr<const bt::Classifier>(classifier.get(), [](const bt::Classifier*) {}));
    const bt::InputDiagnosis result = reader.diagnoseInput(text);
    const std::string name = input == "-" ? std::string("-") : input;
    if (!result.outcome.records.empty()) {
        const auto& records = result.outcome.records;
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            if (json) {
                std::cout << bt::toJson(r, name, 0) << '\n';
            } else {
                std::cout << "Recipient:    " << (r.recipient.empty() ? "(no recipient)" : safe(r.recipient));
                if (records.size() > 1)
                    std::cout << "  (" << i + 1 << " of " << records.size() << ")";
                std::cout << "  [" << r.kind << ", " << r.format << "]\n" << safe(bt::toCard(r.diagnosis)) << '\n';
            }
        }
        leave(kExitOk);
    }
    if (json && result.email) {
        // Read as an email but no bounced recipient found: the reply diagnosis, and why.
        auto j = nlohmann::ordered_json::parse(bt::toJson(result.diagnosis));
        j["email_error"] = result.outcome.error;
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        leave(kExitOk);
    }
    if (!json && result.email)
        std::cout << "Not read as a bounce email (" << safe(result.outcome.error) << "); its main reply:\n";
    print(result.diagnosis);
    leave(kExitOk);
}
