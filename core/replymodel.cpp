// SPDX-License-Identifier: MIT
#include "replymodel.h"

#include "text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <simdjson.h>
#include <stdexcept>

namespace bt
{
namespace
{

/// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes come back as U+FFFD, one
/// byte at a time, so any input (bounce text is untrusted) is walked to its end.
char32_t nextCodePoint(std::string_view s, std::size_t& i)
{
    const auto b = static_cast<unsigned char>(s[i]);
    auto cont
        = [&](std::size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
    auto bits = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    char32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (b < 0x80) {
        cp = b;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
        cp = (static_cast<char32_t>(b & 0x1F) << 6) | bits(1);
        len = 2;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
        cp = (static_cast<char32_t>(b & 0x0F) << 12) | (bits(1) << 6) | bits(2);
        len = 3;
    } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
        cp = (static_cast<char32_t>(b & 0x07) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
        len = 4;
    }
    i += len;
    return cp;
}

bool isCjk(char32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF)
        || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF);
}

/// Letters and digits that make words; everything else (punctuation, symbols, spaces) splits.
bool isWordChar(char32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == 0xFFFD || c == 0xD7 || c == 0xF7 || (c >= 0x80 && c <= 0xBF))
        return false;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F)
        || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65)
        || (c >= 0xFE30 && c <= 0xFE4F))
        return false;
    return true;
}

/// Where the first n code points of a UTF-8 word end (the word's size when it is shorter).
std::size_t prefixEnd(std::string_view word, std::size_t n)
{
    std::size_t cut = 0;
    for (std::size_t cps = 0; cut < word.size() && cps < n; ++cps) {
        ++cut;
        while (cut < word.size() && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80)
            ++cut;
    }
    return cut;
}

/// The index's hash of a feature name: FNV-1a, inline (names are a few bytes; the library's
/// out-of-line murmur was 7 % of a guess). Only this process's index uses it.
std::uint64_t nameHash(std::string_view name)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// The slot tag of a hash: its top 12 bits (the low bits pick the slot).
std::uint32_t tagOf(std::uint64_t hash)
{
    return static_cast<std::uint32_t>(hash >> 52) << 20;
}

double sigmoidSafeExp(double x)
{
    return std::exp(std::max(-60.0, std::min(60.0, x)));
}

/// True for a whitespace-separated chunk that names the case rather than the cause: an address
/// or a Message-ID ('@'), or a placeholder of a template as MTA documentation and source code
/// print their replies ("%s", "$recipient", "{domain}", "<${sender}>"). The placeholder's name
/// is what the server fills in, not its reason: read as a word, "$recipient" or "{ip}" pulled the
/// model towards the family those words mean.
bool namesTheCase(std::string_view chunk)
{
    if (chunk.find('@') != std::string_view::npos)
        return true;
    while (!chunk.empty() && (chunk.front() == '<' || chunk.front() == '[' || chunk.front() == '(' || chunk.front() == '"'
                              || chunk.front() == '\''))
        chunk.remove_prefix(1);
    if (chunk.size() < 2)
        return false;
    const char next = chunk[1];
    return chunk.front() == '{' || ((chunk.front() == '$' || chunk.front() == '%') && (text::isAlpha(next) || next == '{'));
}

/// The one tokenizer behind modelFeatures (training) and ReplyModel::guess (every diagnosis):
/// calls emit(name, start, end) for each feature in order. Names are built in buffers reused
/// from one feature to the next, so a reply costs no allocation once they have grown; emit
/// must copy a name it keeps.
template<class Emit>
void forEachFeature(std::string_view text, std::optional<int> basicCode, std::string_view enhancedCode, Emit&& emit)
{
    thread_local std::string name, word, prev;
    thread_local std::vector<std::pair<char32_t, std::size_t>> run;
    auto code = [&](std::string_view tag, std::string_view value) {
        name.assign(tag);
        name += value;
        emit(std::string_view(name), 0, 0);
    };
    if (basicCode) {
        char digits[16];
        const auto n = std::snprintf(digits, sizeof digits, "%d", *basicCode);
        code("#b", std::string_view(digits, static_cast<std::size_t>(n)));
        const auto k = std::snprintf(digits, sizeof digits, "%d", *basicCode / 100);
        code("#k", std::string_view(digits, static_cast<std::size_t>(k)));
    }
    if (!enhancedCode.empty()) {
        code("#e", enhancedCode);
        const auto dot = enhancedCode.find('.');
        if (dot != std::string_view::npos) {
            code("#x", enhancedCode.substr(dot));
            const auto dot2 = enhancedCode.find('.', dot + 1);
            code("#s", enhancedCode.substr(dot + 1, dot2 - dot - 1));
        }
    }
    if (!basicCode && enhancedCode.empty())
        code("#nocode", {});

    prev.clear(); // previous word, for pairs; empty after a break
    std::size_t prevStart = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        // Whitespace-separated chunks that are addresses, Message-IDs or a template's placeholders
        // name the case, not the cause: skip them whole (see namesTheCase).
        // Looked at from each chunk's first byte only: a chunk whose start sees no '@' has none.
        const auto blank = [](char b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; };
        if (i == 0 || blank(text[i - 1])) {
            std::size_t e = i;
            while (e < text.size() && !blank(text[e]))
                ++e;
            if (e > i && namesTheCase(text.substr(i, e - i))) {
                i = e;
                prev.clear();
                continue;
            }
        }
        std::size_t at = i;
        const char32_t c = nextCodePoint(text, i);
        if (isCjk(c)) {
            // A run of CJK characters: every adjacent pair is a feature, a lone one a feature too.
            run.assign(1, {c, at});
            std::size_t j = i;
            while (j < text.size()) {
                std::size_t k = j;
                const char32_t d = nextCodePoint(text, k);
                if (!isCjk(d))
                    break;
                run.emplace_back(d, j);
                j = k;
            }
            if (run.size() == 1) {
                name.assign("c:");
                text::appendUtf8(name, c);
                emit(std::string_view(name), at, i);
            }
            for (std::size_t r = 0; r + 1 < run.size(); ++r) {
                name.assign("c:");
                text::appendUtf8(name, run[r].first);
                text::appendUtf8(name, run[r + 1].first);
                const std::size_t end = r + 2 < run.size() ? run[r + 2].second : j;
                emit(std::string_view(name), run[r].second, end);
            }
            i = j;
            prev.clear();
            continue;
        }
        if (!isWordChar(c))
            continue;
        word.clear();
        bool digit = false;
        char32_t d = c;
        std::size_t end = i;
        for (;;) {
            digit = digit || (d >= '0' && d <= '9');
            if (d < 0x80)
                word += static_cast<char>(d >= 'A' && d <= 'Z' ? d + 32 : d);
            else
                text::appendUtf8(word, text::foldLetter(d));
            end = i;
            if (i >= text.size())
                break;
            // ASCII letters and digits, the usual case, without decoding.
            if (const auto b = static_cast<unsigned char>(text[i]); b < 0x80) {
                d = b;
                if (!isWordChar(d))
                    break;
                ++i;
                continue;
            }
            std::size_t k = i;
            d = nextCodePoint(text, k);
            if (!isWordChar(d) || isCjk(d))
                break;
            i = k;
        }
        // Numbers, ids and codes inside words name the case, not the cause.
        if (digit || word.size() < 2) {
            prev.clear();
            continue;
        }
        name.assign("w:");
        name += word;
        emit(std::string_view(name), at, end);
        // The word's first four letters as well: a cheap stem that lets the model carry what it
        // learnt from "rejected" to "rejection", "blacklist" to "blacklisted" and part of a German
        // compound to the next. 5-fold CV by source (3 657 replies): the model alone 75.4 ->
        // 76.3 % family, rules with each fold's model 83.48 -> 83.54 %, unknown 2.24 -> 2.16 %
        // (prefixes of 5, 6 or 7 letters and character 4- and 5-grams of every word measured no
        // better).
        if (const std::size_t cut = prefixEnd(word, 4); cut < word.size()) {
            name.assign("p:");
            name.append(word, 0, cut);
            emit(std::string_view(name), at, end);
        }
        if (!prev.empty()) {
            name.assign("b:");
            name += prev;
            name += ' ';
            name += word;
            emit(std::string_view(name), prevStart, end);
        }
        std::swap(prev, word);
        prevStart = at;
    }
}

} // namespace

void modelFeatures(std::string_view text, std::optional<int> basicCode, std::string_view enhancedCode,
                   std::vector<ModelFeature>& out)
{
    out.clear();
    forEachFeature(text, basicCode, enhancedCode, [&](std::string_view name, std::size_t start, std::size_t end) {
        out.push_back({std::string(name), start, end});
    });
}

/// The model document read with simdjson's DOM parser (its kernels chosen for the CPU at run
/// time), weights straight into their table: 107 000 [class, weight] pairs in 1.7 MB. nlohmann's
/// SAX parser took 310 million instructions for it, a quarter of every command's start-up
/// (`diagnose`, `parse`, the window); simdjson reads the same numbers, correctly rounded as
/// strtod rounds them, in a small fraction of that.
std::shared_ptr<const ReplyModel> ReplyModel::fromJson(std::string_view text, const std::string& origin)
{
    auto fail = [&](const std::string& why) { return std::runtime_error(origin + ": " + why); };
    const std::string kPairs = "a feature's weights must be [class, weight] pairs";
    std::string format;
    std::vector<std::string> classes;
    std::vector<float> bias;
    std::optional<double> threshold;
    std::string names;
    std::vector<Weight> pairs;
    std::vector<Feature> features;
    bool sawClasses = false, sawBias = false, sawWeights = false;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (const auto error = parser.parse(text.data(), text.size()).get(doc))
        throw fail(std::string("not valid JSON: ") + simdjson::error_message(error));
    // What is being read when a value is of the wrong kind: the message to give.
    std::string reading = "the model must be a JSON object";
    try {
        for (const auto field : doc.get_object()) {
            const std::string_view key = field.key;
            const auto value = field.value;
            if (key == "format") {
                reading = "\"format\" must be a string";
                format = std::string(std::string_view(value.get_string()));
            } else if (key == "threshold") {
                reading = "\"threshold\" must be a number";
                threshold = double(value.get_double());
            } else if (key == "classes") {
                reading = "\"classes\" must hold names";
                sawClasses = true;
                for (const auto c : value.get_array())
                    classes.emplace_back(std::string_view(c.get_string()));
            } else if (key == "bias") {
                reading = "\"bias\" must hold numbers";
                sawBias = true;
                for (const auto b : value.get_array())
                    bias.push_back(static_cast<float>(double(b.get_double())));
            } else if (key == "weights") {
                sawWeights = true;
                reading = "\"weights\" must be an object of features";
                const simdjson::dom::object all = value.get_object();
                features.reserve(all.size());
                for (const auto feature : all) {
                    const std::string_view name = feature.key;
                    Feature f {static_cast<std::uint32_t>(names.size()), static_cast<std::uint32_t>(name.size()),
                               static_cast<std::uint32_t>(pairs.size()), 0};
                    names += name;
                    reading = kPairs;
                    for (const auto pair : feature.value.get_array()) {
                        const simdjson::dom::array numbers = pair.get_array();
                        if (numbers.size() != 2)
                            throw fail(kPairs);
                        const double cls = numbers.at(0).get_double();
                        if (!(cls >= 0 && cls < 65536))
                            throw fail("feature \"" + std::string(name) + "\" names class " + std::to_string(cls));
                        pairs.push_back(
                            {static_cast<std::uint32_t>(cls), static_cast<float>(double(numbers.at(1).get_double()))});
                    }
                    f.count = static_cast<std::uint32_t>(pairs.size()) - f.first;
                    features.push_back(f);
                }
            }
            // Other members ("about", "examples", "bags") are notes for people: skipped.
        }
    } catch (const simdjson::simdjson_error&) {
        throw fail(format == "bouncetriage-model/1" ? reading : "expected \"format\": \"bouncetriage-model/1\"");
    }
    if (format != "bouncetriage-model/1")
        throw fail("expected \"format\": \"bouncetriage-model/1\"");
    for (const auto& [key, present] : {std::pair {"classes", sawClasses}, {"bias", sawBias}, {"weights", sawWeights}})
        if (!present)
            throw fail("no \"" + std::string(key) + "\"");
    if (bias.size() != classes.size())
        throw fail("bias and classes differ in length");
    auto nameOf = [&](const Feature& f) { return std::string_view(names).substr(f.nameAt, f.nameSize); };
    for (const auto& f : features)
        for (std::uint32_t i = f.first; i < f.first + f.count; ++i)
            if (pairs[i].cls >= classes.size())
                throw fail("feature \"" + std::string(nameOf(f)) + "\" names class " + std::to_string(pairs[i].cls));
    // The index: open addressing, linear probing, at most half full. Each slot also holds the
    // top 12 bits of its name's hash (tagOf), so a probe that meets another feature (most lookups are of
    // word pairs the model never saw) is told apart without reading that feature's name.
    std::size_t slots = 16;
    while (slots < 2 * features.size())
        slots *= 2;
    if (features.size() > kMaxFeatures)
        throw fail("more than " + std::to_string(kMaxFeatures) + " features");
    std::vector<std::uint32_t> index(slots, 0);
    for (std::size_t fi = 0; fi < features.size(); ++fi) {
        const auto name = nameOf(features[fi]);
        const std::uint64_t hash = nameHash(name);
        for (std::size_t at = hash & (slots - 1);; at = (at + 1) & (slots - 1)) {
            if (index[at] == 0) {
                index[at] = tagOf(hash) | static_cast<std::uint32_t>(fi + 1);
                break;
            }
            if (nameOf(features[(index[at] & ~kTagMask) - 1]) == name)
                throw fail("feature \"" + std::string(name) + "\" is given twice");
        }
    }
    auto m = std::make_shared<ReplyModel>();
    m->m_classes = std::move(classes);
    m->m_bias = std::move(bias);
    m->m_threshold = threshold.value_or(0.45);
    m->m_names = std::move(names);
    m->m_pairs = std::move(pairs);
    m->m_features = std::move(features);
    m->m_slots = std::move(index);
    return m;
}

const ReplyModel::Feature* ReplyModel::find(std::string_view name) const
{
    if (m_slots.empty())
        return nullptr;
    const std::size_t mask = m_slots.size() - 1;
    const std::uint64_t hash = nameHash(name);
    const std::uint32_t tag = tagOf(hash);
    for (std::size_t at = hash & mask; m_slots[at] != 0; at = (at + 1) & mask) {
        if ((m_slots[at] & kTagMask) != tag)
            continue;
        const auto& f = m_features[(m_slots[at] & ~kTagMask) - 1];
        if (std::string_view(m_names).substr(f.nameAt, f.nameSize) == name)
            return &f;
    }
    return nullptr;
}

std::optional<ReplyModel::Guess> ReplyModel::guess(std::string_view text, std::optional<int> basicCode,
                                                   std::string_view enhancedCode, bool withEvidence) const
{
    if (m_classes.empty())
        return std::nullopt;
    // Asked for every diagnosis a rule decided too (whether the words disagree strongly), so
    // this path allocates nothing but its answer: the features are looked up as the tokenizer
    // names them, and only the known ones are kept, with their spans, for the evidence.
    struct Hit {
        const Feature* feature;
        std::size_t start, end;
    };
    thread_local std::vector<Hit> hits;
    thread_local std::vector<double> score;
    hits.clear();
    score.assign(m_bias.begin(), m_bias.end());
    std::size_t textFeatures = 0;
    bool lastKnown = false;
    std::size_t lastStart = 0;
    forEachFeature(text, basicCode, enhancedCode, [&](std::string_view name, std::size_t start, std::size_t end) {
        const Feature* f = find(name);
        // A word's prefix counts only when the word itself is unknown: "Rejected" is one word.
        const bool prefixOfKnownWord = name[0] == 'p' && lastKnown && lastStart == start;
        lastKnown = f != nullptr;
        lastStart = start;
        if (!f)
            return;
        textFeatures += name[0] != '#' && !prefixOfKnownWord;
        for (const auto& [cls, w] : weightsOf(*f))
            score[cls] += w;
        hits.push_back({f, start, end});
    });
    // Codes alone are the code table's business, and one known word ("Rejected") says too
    // little: the model speaks only when it knows at least two of the reply's words or pairs.
    if (textFeatures < 2)
        return std::nullopt;
    const auto best = static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
    double sum = 0;
    for (double s : score)
        sum += sigmoidSafeExp(s - score[best]);
    Guess g;
    g.reason = m_classes[best];
    g.probability = 1.0 / sum;
    if (!withEvidence)
        return g;
    // Evidence: the words that pushed towards the winner the most, once each.
    thread_local std::vector<std::pair<float, std::size_t>> contrib;
    contrib.clear();
    for (std::size_t h = 0; h < hits.size(); ++h) {
        if (hits[h].end <= hits[h].start)
            continue;
        for (const auto& [cls, w] : weightsOf(*hits[h].feature))
            if (cls == best && w > 0.05f)
                contrib.emplace_back(w, h);
    }
    std::stable_sort(contrib.begin(), contrib.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& c : contrib) {
        const Hit& hit = hits[c.second];
        const bool overlaps = std::any_of(g.strongest.begin(), g.strongest.end(), [&](const ModelFeature& o) {
            return hit.start < o.end && o.start < hit.end;
        });
        if (!overlaps)
            g.strongest.push_back(
                {std::string(std::string_view(m_names).substr(hit.feature->nameAt, hit.feature->nameSize)), hit.start,
                 hit.end});
        if (g.strongest.size() == 3)
            break;
    }
    return g;
}

std::string ReplyModel::train(const std::vector<Example>& examples, const TrainOptions& o)
{
    // Classes and features numbered in sorted order, so the document does not depend on input order.
    auto numberInOrder = [](std::map<std::string, int>& index) {
        std::vector<std::string> names;
        for (auto& [name, idx] : index) {
            idx = static_cast<int>(names.size());
            names.push_back(name);
        }
        return names;
    };
    std::map<std::string, int> classIndex;
    for (const auto& e : examples)
        classIndex.emplace(e.reason, 0);
    const auto classes = numberInOrder(classIndex);
    std::map<std::string, int> featureIndex;
    std::vector<std::vector<std::string>> featuresOf(examples.size());
    std::vector<ModelFeature> fs;
    for (std::size_t i = 0; i < examples.size(); ++i) {
        modelFeatures(examples[i].text, examples[i].basicCode, examples[i].enhancedCode, fs);
        for (auto& f : fs) {
            featureIndex.emplace(f.name, 0);
            featuresOf[i].push_back(std::move(f.name));
        }
    }
    const auto featureNames = numberInOrder(featureIndex);
    std::vector<std::vector<int>> rows(examples.size());
    for (std::size_t i = 0; i < examples.size(); ++i) {
        for (const auto& name : featuresOf[i])
            rows[i].push_back(featureIndex[name]);
        std::sort(rows[i].begin(), rows[i].end());
        rows[i].erase(std::unique(rows[i].begin(), rows[i].end()), rows[i].end());
    }
    const std::size_t nc = classes.size();
    const std::size_t nf = featureNames.size();
    // Bagging: with bags > 1 each bag trains on all but one bags-th of the examples (which
    // ones, drawn once from the seed) with its own order, and the weights are averaged. One
    // run of AdaGrad over one order of the data leans on which rows it saw last; the average
    // of several moves less when a few rows are added or taken away.
    std::vector<double> w(nf * nc, 0.0), b(nc, 0.0);
    std::vector<int> bagOf(examples.size(), -1);
    const int bags = std::max(1, o.bags);
    if (bags > 1) {
        std::mt19937 pick(o.seed ^ 0x9e3779b9u);
        for (auto& k : bagOf)
            k = static_cast<int>(pick() % static_cast<unsigned>(bags));
    }
    std::vector<double> bw(nf * nc), gw(nf * nc), bb(nc), gb(nc), p(nc);
    for (int bag = 0; bag < bags; ++bag) {
        std::fill(bw.begin(), bw.end(), 0.0);
        std::fill(gw.begin(), gw.end(), 0.0);
        std::fill(bb.begin(), bb.end(), 0.0);
        std::fill(gb.begin(), gb.end(), 0.0);
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < examples.size(); ++i)
            if (bagOf[i] != bag)
                order.push_back(i);
        std::mt19937 rng(o.seed + static_cast<unsigned>(bag));
        for (int epoch = 0; epoch < o.epochs; ++epoch) {
            // Own Fisher-Yates over mt19937's fixed output: std::shuffle may differ between libraries.
            for (std::size_t i = order.size(); i > 1; --i)
                std::swap(order[i - 1], order[rng() % i]);
            for (const auto i : order) {
                const auto& row = rows[i];
                const auto y = static_cast<std::size_t>(classIndex[examples[i].reason]);
                double mx = -1e300;
                for (std::size_t c = 0; c < nc; ++c) {
                    double s = bb[c];
                    for (int f : row)
                        s += bw[static_cast<std::size_t>(f) * nc + c];
                    p[c] = s;
                    mx = std::max(mx, s);
                }
                double z = 0;
                for (auto& v : p)
                    z += (v = std::exp(v - mx));
                for (std::size_t c = 0; c < nc; ++c) {
                    const double g = (p[c] / z - (c == y ? 1.0 : 0.0)) * examples[i].weight;
                    gb[c] += g * g;
                    bb[c] -= o.learningRate * g / std::sqrt(gb[c] + 1e-8);
                    for (int f : row) {
                        const std::size_t k = static_cast<std::size_t>(f) * nc + c;
                        const double gk = g + o.l2 * bw[k];
                        gw[k] += gk * gk;
                        bw[k] -= o.learningRate * gk / std::sqrt(gw[k] + 1e-8);
                    }
                }
            }
        }
        for (std::size_t k = 0; k < w.size(); ++k)
            w[k] += bw[k] / bags;
        for (std::size_t c = 0; c < nc; ++c)
            b[c] += bb[c] / bags;
    }
    auto round4 = [](double v) { return std::round(v * 10000.0) / 10000.0; };
    nlohmann::ordered_json doc;
    doc["format"] = "bouncetriage-model/1";
    doc["about"] = "Multinomial logistic regression over words, word pairs, CJK character pairs and status "
                   "codes of labelled replies (core/replymodel.cpp); written by app/trainmodel, see "
                   "resources/model/README.md.";
    doc["examples"] = examples.size();
    doc["threshold"] = o.threshold;
    doc["bags"] = bags;
    doc["classes"] = classes;
    std::vector<double> bias;
    for (double v : b)
        bias.push_back(round4(v));
    doc["bias"] = bias;
    // One feature a line, so a retrained model diffs readably.
    std::string out = doc.dump();
    out.pop_back(); // the closing brace
    out += ",\n\"weights\": {";
    bool first = true;
    for (std::size_t f = 0; f < nf; ++f) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (std::size_t c = 0; c < nc; ++c) {
            const double v = w[f * nc + c];
            if (std::fabs(v) >= o.prune)
                list.push_back({static_cast<int>(c), round4(v)});
        }
        if (list.empty())
            continue;
        out += first ? "\n" : ",\n";
        first = false;
        out += nlohmann::json(featureNames[f]).dump() + ": " + list.dump();
    }
    out += "\n}}\n";
    return out;
}

} // namespace bt
