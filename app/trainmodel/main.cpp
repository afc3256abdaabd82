// SPDX-License-Identifier: MIT
// Trains the statistical fallback of the classifier (core/replymodel.h) from labelled replies
// and writes resources/model/replies-model.json. See resources/model/README.md.
#include "classifier.h"
#include "knowledge.h"
#include "replymodel.h"
#include "replyparser.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace
{

struct Row {
    bt::ReplyModel::Example example;
    std::string source; ///< site the reply came from: cross-validation folds never split one
};

std::vector<std::string> splitTabs(const std::string& line)
{
    std::vector<std::string> out;
    std::size_t at = 0;
    for (;;) {
        const auto tab = line.find('\t', at);
        out.push_back(line.substr(at, tab == std::string::npos ? std::string::npos : tab - at));
        if (tab == std::string::npos)
            return out;
        at = tab + 1;
    }
}

/// "https://github.com/owner/repo/blob/…" → "github.com/owner/repo"; other URLs → their host.
std::string sourceOf(const std::string& url)
{
    auto rest = url.substr(std::min(url.size(), url.find("://") == std::string::npos ? 0 : url.find("://") + 3));
    if (rest.starts_with("www."))
        rest = rest.substr(4);
    std::vector<std::string> parts;
    std::stringstream ss(rest);
    for (std::string p; std::getline(ss, p, '/');)
        if (!p.empty())
            parts.push_back(p);
    if (parts.empty())
        return "?";
    if ((parts[0] == "github.com" || parts[0] == "gitlab.com") && parts.size() >= 3)
        return parts[0] + "/" + parts[1] + "/" + parts[2];
    return parts[0];
}

bt::ReplyModel::Example exampleOf(const std::string& text, const std::string& reason)
{
    const auto reply = bt::primaryReply(text);
    return {text, reply.basicCode, reply.enhancedCode, reason, 1.0};
}

/// Reads a labelled TSV (header with reply_text and reason; source_url used when present), each
/// row weighing `weight` in the training.
std::vector<Row> readTsv(const std::string& path, double weight = 1.0)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error(path + ": cannot be read");
    std::string line;
    std::getline(in, line);
    const auto header = splitTabs(line);
    auto column = [&](const char* name) {
        const auto it = std::find(header.begin(), header.end(), name);
        return it == header.end() ? -1 : static_cast<int>(it - header.begin());
    };
    const int text = column("reply_text"), reason = column("reason"), url = column("source_url");
    if (text < 0 || reason < 0)
        throw std::runtime_error(path + ": the header needs reply_text and reason columns");
    std::vector<Row> rows;
    for (int n = 2; std::getline(in, line); ++n) {
        const auto v = splitTabs(line);
        if (v.size() != header.size())
            throw std::runtime_error(path + ":" + std::to_string(n) + ": " + std::to_string(v.size())
                                     + " fields, the header has " + std::to_string(header.size()));
        if (!bt::isKnownReason(v[static_cast<std::size_t>(reason)]))
            throw std::runtime_error(path + ":" + std::to_string(n) + ": unknown reason \""
                                     + v[static_cast<std::size_t>(reason)] + "\"");
        auto example = exampleOf(v[static_cast<std::size_t>(text)], v[static_cast<std::size_t>(reason)]);
        example.weight = weight;
        rows.push_back({std::move(example), url >= 0 ? sourceOf(v[static_cast<std::size_t>(url)]) : path});
    }
    return rows;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app {"Trains the reply model (the classifier's statistical fallback) from labelled replies"};
    std::vector<std::string> inputs;
    std::string out;
    int folds = 0;
    bt::ReplyModel::TrainOptions options;
    app.add_option("tsv", inputs, "labelled replies (TSV with reply_text, reason[, source_url])")->required();
    app.add_option("-o,--out", out, "where to write the model (JSON)");
    app.add_option("--cv", folds, "also report K-fold cross-validation, folds split by source");
    int showMisses = 0;
    app.add_option("--misses", showMisses, "with --cv: print this many replies the classifier got wrong");
    app.add_option("--epochs", options.epochs, "passes over the data");
    app.add_option("--threshold", options.threshold, "lowest probability the classifier takes as an answer");
    app.add_option("--l2", options.l2, "L2 regularisation");
    app.add_option("--prune", options.prune, "weights smaller than this are not written");
    app.add_option("--bags", options.bags, "models averaged, each trained on all but one bags-th of the data");
    bool perturb = false;
    app.add_flag("--perturb", perturb,
                 "with --cv: also train each fold's model without ~3 % of its sources and count the test "
                 "replies whose family changes (how much the fallback moves with its training data)");
    std::string predict;
    app.add_option("--predict", predict,
                   "train on the inputs (and the rule examples, less any text of this file), then print the model's "
                   "reason, probability and family for each row of this TSV, one line each "
                   "(resources/model/second_guess.py)");
    std::vector<std::string> augments;
    app.add_option("--augment", augments,
                   "labelled replies that only teach (never scored in --cv): rewordings and translations of labelled "
                   "replies, written probes. A row whose source_url is a scored row's source trains only the folds "
                   "that do not test that source")
        ->allow_extra_args(false); // one file per --augment: the labelled files after it stay labelled
    double augmentWeight = 0.5;
    app.add_option("--augment-weight", augmentWeight, "what an --augment row weighs against a labelled one");
    bool noKnown = false;
    app.add_flag("--no-rule-examples", noKnown,
                 "leave the rules' and lexicons' examples out of the training (they may paraphrase replies the "
                 "model should not have seen)");
    CLI11_PARSE(app, argc, argv);

    try {
        std::vector<Row> rows;
        for (const auto& path : inputs)
            for (auto& r : readTsv(path))
                rows.push_back(std::move(r));
        std::vector<Row> extra;
        for (const auto& path : augments)
            for (auto& r : readTsv(path, augmentWeight))
                extra.push_back(std::move(r));
        // Every rule's and lexicon's examples teach the model the words the rules know, so its
        // guesses agree with the rules where both could speak.
        auto kb = bt::KnowledgeBase::loadDefault();
        std::vector<bt::ReplyModel::Example> known;
        for (const auto& rule : kb->rules())
            for (const auto& ex : rule.examples)
                known.push_back(exampleOf(ex, rule.reason));
        if (noKnown)
            known.clear();
        // The model alone on replies it did not learn from: what a rule it might overrule is
        // measured against (resources/model/second_guess.py).
        if (!predict.empty()) {
            auto test = readTsv(predict);
            std::set<std::string> testTexts;
            for (const auto& r : test)
                testTexts.insert(r.example.text);
            std::vector<bt::ReplyModel::Example> train;
            for (auto& k : known)
                if (!testTexts.count(k.text))
                    train.push_back(k);
            for (const auto& r : rows)
                train.push_back(r.example);
            for (const auto& r : extra)
                if (!testTexts.count(r.example.text))
                    train.push_back(r.example);
            kb->setModel(bt::ReplyModel::train(train, options), "predict");
            for (const auto& r : test) {
                const auto g = kb->model()->guess(r.example.text, r.example.basicCode, r.example.enhancedCode);
                const std::string reason = g ? g->reason : "undefined";
                std::cout << reason << "\t" << (g ? g->probability : 0.0) << "\t" << bt::familyOf(reason) << "\n";
            }
            return 0;
        }

        if (folds > 1) {
            std::set<std::string> sources;
            for (const auto& r : rows)
                sources.insert(r.source);
            std::map<std::string, int> foldOf;
            for (const auto& s : sources)
                foldOf[s] = static_cast<int>(std::hash<std::string> {}(s) % static_cast<std::size_t>(folds));
            std::size_t answered = 0, right = 0, rightAll = 0;
            // The whole classifier with each fold's model: rules first, the model where they
            // are silent. That is what a user gets on replies from sources it never saw.
            std::size_t pipeRight = 0, pipeUnknown = 0, pipeAnswered = 0, pipeModel = 0, perturbChanged = 0;
            // The model's second guesses: how often overturning a vaguer rule or a code was right,
            // and how often the verdict it overturned would have been.
            std::size_t overruled = 0, overruledRight = 0, overruledWasRight = 0;
            // One classifier over the shipped knowledge; each fold only swaps the model it asks.
            const bt::Classifier classifier(kb);
            for (int k = 0; k < folds; ++k) {
                auto train = known;
                std::vector<const Row*> test;
                for (const auto& r : rows)
                    (foldOf[r.source] == k ? test.push_back(&r) : train.push_back(r.example));
                // A rewording of a tested source's reply would teach the fold its own test.
                for (const auto& r : extra)
                    if (const auto f = foldOf.find(r.source); f == foldOf.end() || f->second != k)
                        train.push_back(r.example);
                if (test.empty())
                    continue;
                if (perturb) {
                    // A slightly smaller training set (every 33rd source, by hash, left out):
                    // the answers that change measure the fallback's instability.
                    std::vector<bt::ReplyModel::Example> fewer = known;
                    for (const auto& r : rows)
                        if (foldOf[r.source] != k && std::hash<std::string> {}(r.source + "#perturb") % 33 != 0)
                            fewer.push_back(r.example);
                    for (const auto& r : extra)
                        if (const auto f = foldOf.find(r.source); (f == foldOf.end() || f->second != k)
                            && std::hash<std::string> {}(r.source + "#perturb") % 33 != 0)
                            fewer.push_back(r.example);
                    kb->setModel(bt::ReplyModel::train(fewer, options), "fold " + std::to_string(k) + " perturbed");
                    std::vector<std::string> before;
                    for (const auto* r : test)
                        before.push_back(classifier.diagnoseText(r->example.text).family);
                    kb->setModel(bt::ReplyModel::train(train, options), "fold " + std::to_string(k));
                    for (std::size_t i = 0; i < test.size(); ++i)
                        perturbChanged += classifier.diagnoseText(test[i]->example.text).family != before[i];
                }
                kb->setModel(bt::ReplyModel::train(train, options), "fold " + std::to_string(k));
                const auto* model = kb->model();
                for (const auto* r : test) {
                    const auto d = classifier.diagnoseText(r->example.text);
                    const bool unknown = d.family == "unknown";
                    const bool ok = d.family == bt::familyOf(r->example.reason);
                    pipeRight += ok;
                    pipeUnknown += unknown && !ok;
                    pipeAnswered += !unknown;
                    pipeModel += d.confidence == "model";
                    if (!d.overruled.empty()) {
                        ++overruled;
                        overruledRight += ok;
                        overruledWasRight += bt::familyOf(d.overruled) == bt::familyOf(r->example.reason);
                    }
                    if (!ok && showMisses > 0) {
                        --showMisses;
                        std::cout << "miss: want " << bt::familyOf(r->example.reason) << "/" << r->example.reason
                                  << " got " << d.family << "/" << d.reason << " [" << d.confidence << " "
                                  << (d.ruleIds.empty() ? std::string() : d.ruleIds.front()) << "] "
                                  << r->example.text.substr(0, 160) << "\n";
                    }
                }
                for (const auto* r : test) {
                    const auto g = model->guess(r->example.text, r->example.basicCode, r->example.enhancedCode);
                    const bool ok = g && bt::familyOf(g->reason) == bt::familyOf(r->example.reason);
                    rightAll += ok;
                    if (g && g->probability >= model->threshold()) {
                        ++answered;
                        right += ok;
                    }
                }
            }
            const auto pct = [](std::size_t n, std::size_t of) {
                return 100.0 * static_cast<double>(n) / static_cast<double>(std::max<std::size_t>(1, of));
            };
            std::cout << "cross-validation over " << rows.size() << " replies from " << sources.size() << " sources, "
                      << folds << " folds: family right " << rightAll << " (" << pct(rightAll, rows.size())
                      << " %) when always answering; answered " << answered << ", right among them " << right << " ("
                      << pct(right, answered) << " %) at threshold " << options.threshold << "\n";
            std::cout << "classifier with the fold's model: family " << pct(pipeRight, rows.size()) << " %, unknown "
                      << pct(pipeUnknown, rows.size()) << " %, right among answers " << pct(pipeRight, pipeAnswered)
                      << " %, answered by the model " << pipeModel << "\n";
            std::cout << "the model overturned a rule or code " << overruled << " times: right " << overruledRight
                      << ", the verdict it overturned right " << overruledWasRight << "\n";
            if (perturb)
                std::cout << "without ~3 % of the training sources, the family changes on " << perturbChanged << " of "
                          << rows.size() << " test replies\n";
        }
        if (!out.empty()) {
            auto all = known;
            for (const auto& r : rows)
                all.push_back(r.example);
            for (const auto& r : extra)
                all.push_back(r.example);
            const auto doc = bt::ReplyModel::train(all, options);
            std::ofstream f(out, std::ios::binary);
            f << doc;
            if (!f)
                throw std::runtime_error(out + ": cannot be written");
            std::cout << "trained on " << all.size() << " replies (" << rows.size() << " labelled, " << extra.size()
                      << " reworded or written, " << known.size() << " rule examples) -> " << out << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "bouncetriage-trainmodel: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
