// SPDX-License-Identifier: MIT
// Diagnoses per second over the real fixture replies, repeated to at least 100 000 lines,
// on one thread. No cache: every line is parsed and classified from scratch.
//   build/release/tests/bench/bench_diagnose --benchmark_counters_tabular=true
#include "../fixturereplies.h"
#include "classifier.h"
#include "json.h"
#include "knowledge.h"
#include "replymodel.h"
#include "replyparser.h"
#include "text.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace
{

std::vector<std::string> fixtureReplies()
{
    return ::fixtureReplies(BT_SHARED_DIR);
}

std::vector<std::string> corpusLines(std::size_t atLeast)
{
    const auto base = fixtureReplies();
    std::vector<std::string> lines;
    if (base.empty())
        return lines;
    while (lines.size() < atLeast)
        lines.insert(lines.end(), base.begin(), base.end());
    return lines;
}

void BM_DiagnoseFixtureLines(benchmark::State& state)
{
    const auto lines = corpusLines(100000);
    if (lines.empty()) {
        state.SkipWithError("replies.tsv not found");
        return;
    }
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    std::size_t done = 0;
    for (auto _ : state) {
        for (const auto& l : lines)
            benchmark::DoNotOptimize(c.diagnoseText(l));
        done += lines.size();
    }
    state.counters["diagnoses/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
    state.counters["lines"] = static_cast<double>(lines.size());
}
BENCHMARK(BM_DiagnoseFixtureLines)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_ParseOnly(benchmark::State& state)
{
    const auto lines = corpusLines(100000);
    std::size_t done = 0;
    for (auto _ : state) {
        for (const auto& l : lines)
            benchmark::DoNotOptimize(bt::primaryReply(l));
        done += lines.size();
    }
    state.counters["replies/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

// The statistical model's guess alone, as the classifier asks it for every reply (to second-
// guess a rule when the words disagree strongly): features, lookups, scores and evidence.
void BM_ModelGuess(benchmark::State& state)
{
    const auto lines = corpusLines(100000);
    const auto kb = bt::KnowledgeBase::loadDefault();
    std::vector<bt::Reply> replies;
    for (const auto& l : lines)
        replies.push_back(bt::primaryReply(l));
    std::size_t done = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < lines.size(); ++i)
            benchmark::DoNotOptimize(kb->model()->guess(lines[i], replies[i].basicCode, replies[i].enhancedCode));
        done += lines.size();
    }
    state.counters["guesses/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ModelGuess)->Unit(benchmark::kMillisecond);

void BM_LoadKnowledgeAndCompile(benchmark::State& state)
{
    for (auto _ : state) {
        const bt::Classifier c(bt::KnowledgeBase::loadDefault());
        benchmark::DoNotOptimize(&c);
    }
}
BENCHMARK(BM_LoadKnowledgeAndCompile)->Unit(benchmark::kMillisecond);

// What a pasted reply waits for in a fresh process: the knowledge loaded and compiled, then the
// first reply of a language, which compiles the sets that reply needs (the other languages'
// phrases per language, only where the reply holds what one of them needs).
void BM_FirstReplyOfALanguage(benchmark::State& state)
{
    static const char* const kReplies[] = {
        "550 5.1.1 <anna@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
        "550 5.1.1 Benutzer unbekannt: Das Postfach existiert nicht",
        "550 5.7.1 Votre message a été refusé : adresse IP bloquée",
        "550 5.1.1 Адресат не найден, почтовый ящик не существует",
        "550 5.1.1 收件人地址不存在",
    };
    const char* reply = kReplies[state.range(0)];
    for (auto _ : state) {
        const bt::Classifier c(bt::KnowledgeBase::loadDefault());
        benchmark::DoNotOptimize(c.diagnoseText(reply));
    }
}
BENCHMARK(BM_FirstReplyOfALanguage)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Arg(4)
    ->ArgName("en_de_fr_ru_zh")
    ->Unit(benchmark::kMillisecond);

// JSON lines of 150 000 diagnoses (the fixture replies, every fifth with escapes, control bytes
// and broken UTF-8 added): ours (bt::toJson, a writer appending to a string) against the peer,
// nlohmann::ordered_json building the same object and dumping it with the same settings — what
// toJson did before. Only the writing is timed; the diagnoses are made before.
std::vector<bt::Diagnosis> diagnosesForJson()
{
    const auto base = fixtureReplies();
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    std::vector<bt::Diagnosis> out;
    out.reserve(150000);
    for (std::size_t i = 0; out.size() < 150000 && !base.empty(); ++i) {
        std::string line = base[i % base.size()];
        if (i % 5 == 0)
            line += " \"quoted\" \\ tab\there \x01 caf\xc3\xa9 broken \xe2\x82 \xff";
        out.push_back(c.diagnoseText(line));
    }
    return out;
}

std::string nlohmannLine(const bt::Diagnosis& d)
{
    auto nullable = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    nlohmann::ordered_json j;
    j["basic_code"] = d.basicCode ? nlohmann::json(*d.basicCode) : nlohmann::json(nullptr);
    j["enhanced_code"] = nullable(d.enhancedCode);
    j["reply_text"] = d.replyText;
    j["reason"] = d.reason;
    j["family"] = d.family;
    j["spam_related"] = d.spamRelated;
    j["confidence"] = d.confidence;
    j["action"] = d.action;
    j["hard_bounce"] = d.hardBounce;
    auto ev = nlohmann::json::array();
    for (const auto& e : d.evidence)
        ev.push_back({{"start", bt::text::codePointOffset(d.replyText, e.start)},
                      {"end", bt::text::codePointOffset(d.replyText, e.end)},
                      {"rule", e.rule},
                      {"text", d.replyText.substr(e.start, e.end - e.start)}});
    j["evidence"] = ev;
    auto bl = nlohmann::json::array();
    for (const auto& b : d.blocklists)
        bl.push_back({{"name", b.name},
                      {"zone", nullable(b.zone)},
                      {"lists", b.lists},
                      {"delist_url", b.delistUrl},
                      {"listing", b.listing}});
    j["blocklists"] = bl;
    j["provider"] = nullable(d.provider);
    j["explanation"] = d.explanation;
    j["steps"] = d.steps;
    j["code_meaning"] = nullable(d.codeMeaning);
    j["remote_host"] = nullable(d.remoteHost);
    j["remote_ip"] = nullable(d.remoteIp);
    j["smtp_stage"] = nullable(d.smtpStage);
    j["rules"] = d.ruleIds;
    j["overruled"] = nullable(d.overruled);
    if (const auto alt = bt::alternativeReading(d); alt.empty()) {
        j["alternative"] = nullptr;
    } else {
        const auto& e = d.alternativeEvidence;
        j["alternative"] = {{"end", bt::text::codePointOffset(d.replyText, e.end)},
                            {"family", std::string(bt::familyOf(alt))},
                            {"reason", std::string(alt)},
                            {"rule", e.rule},
                            {"start", bt::text::codePointOffset(d.replyText, e.start)},
                            {"text", d.replyText.substr(e.start, e.end - e.start)}};
    }
    j["references"] = d.references;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void BM_JsonLinesOurs(benchmark::State& state)
{
    static const auto diagnoses = diagnosesForJson();
    const auto detail = state.range(0) ? bt::JsonDetail::Brief : bt::JsonDetail::Full;
    std::size_t done = 0, bytes = 0;
    for (auto _ : state) {
        for (const auto& d : diagnoses) {
            const auto line = bt::toJson(d, detail);
            bytes += line.size();
            benchmark::DoNotOptimize(line.data());
        }
        done += diagnoses.size();
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
    state.counters["bytes/line"] = static_cast<double>(bytes) / static_cast<double>(done);
}
BENCHMARK(BM_JsonLinesOurs)->Arg(0)->Arg(1)->ArgName("brief")->Unit(benchmark::kMillisecond);

void BM_JsonLinesNlohmann(benchmark::State& state)
{
    static const auto diagnoses = diagnosesForJson();
    std::size_t done = 0;
    for (auto _ : state) {
        for (const auto& d : diagnoses)
            benchmark::DoNotOptimize(nlohmannLine(d).data());
        done += diagnoses.size();
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_JsonLinesNlohmann)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
