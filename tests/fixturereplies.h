// SPDX-License-Identifier: MIT
// The reply texts of ../shared/fixtures/replies.tsv (the reply_text column), for tests and
// benchmarks that need many real replies rather than their labels.
#pragma once

#include <fstream>
#include <string>
#include <vector>

inline std::vector<std::string> fixtureReplies(const std::string& sharedDir)
{
    std::vector<std::string> replies;
    std::ifstream in(sharedDir + "/fixtures/replies.tsv");
    std::string line;
    std::getline(in, line); // the header
    while (std::getline(in, line)) {
        const auto a = line.find('\t');
        const auto b = a == std::string::npos ? a : line.find('\t', a + 1);
        if (b != std::string::npos)
            replies.push_back(line.substr(a + 1, b - a - 1));
    }
    return replies;
}
