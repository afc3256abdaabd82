// SPDX-License-Identifier: MIT
// The field table (bt::kFields) walked through every core consumer: a field added to the table
// but left out of the SQL, the cube, the options, the groupings or the schema fails here. The
// window's consumers (panel, drill-down words, report) are walked in tests/ui.
#include "analysis.h"
#include "cube.h"
#include "fields.h"
#include "filteroption.h"
#include "testsupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace
{

using testsupport::TempWorkspace;

/// A few events with every field filled: two providers, a delivery, a deferral, codes,
/// templates and replies.
void addEvents(bt::Workspace& ws)
{
    const auto import = ws.beginImport("fields", 0, "", "postfix_log");
    struct Row {
        const char *type, *time, *provider, *domain, *ip, *campaign, *family, *reason, *spam;
        std::optional<int> code;
        const char *status, *reply;
    };
    const Row rows[] = {
        {"bounce", "2026-03-01T10:15:00Z", "Gmail", "gmail.com", "192.0.2.1", "spring", "reputation", "blocked", "yes",
         550, "5.7.1", "550 5.7.1 blocked by spamhaus"},
        {"bounce", "2026-03-01T10:20:00Z", "Gmail", "gmail.com", "192.0.2.1", "spring", "reputation", "blocked", "yes",
         550, "5.7.1", "550 5.7.1 blocked by spamhaus"},
        {"delivered", "2026-03-01T11:00:00Z", "Gmail", "gmail.com", "192.0.2.1", "spring", "", "", "", {}, "", ""},
        {"deferral", "2026-03-01T12:05:00Z", "Yahoo", "yahoo.com", "192.0.2.2", "autumn", "policy", "rate_limited",
         "no", 421, "4.7.0", "421 4.7.0 try again later"},
        {"bounce", "2026-03-02T09:00:00Z", "Yahoo", "yahoo.com", "192.0.2.2", "autumn", "address", "userunknown", "no",
         550, "5.1.1", "550 5.1.1 user unknown"},
    };
    int n = 0;
    for (const Row& r : rows) {
        bt::Event e;
        e.eventType = r.type;
        e.timestamp = r.time;
        e.provider = r.provider;
        e.recipientDomain = r.domain;
        e.recipient = "user" + std::to_string(n) + "@" + r.domain;
        e.sendingIp = r.ip;
        e.campaign = r.campaign;
        // Two brands sending: the From domain follows the campaign.
        e.fromDomain = std::string(r.campaign) == "spring" ? "shop.example.com" : "news.example.org";
        e.diagnosis.family = r.family;
        e.diagnosis.reason = r.reason;
        e.diagnosis.spamRelated = r.spam;
        e.basicCode = r.code;
        e.enhancedCode = r.status;
        e.replyText = r.reply;
        e.templateText = r.reply;
        e.dedupKey = std::to_string(n++);
        ASSERT_EQ(ws.addEvent(import, e), bt::Workspace::Added::Imported);
    }
}

/// The most frequent non-empty value of the field's column, as text.
std::string sampleValue(bt::Workspace& ws, const bt::Field& field)
{
    const std::string c(field.column);
    return testsupport::text(ws,
                             "SELECT " + c + " FROM events WHERE COALESCE(" + c
                                 + ", '') <> '' GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 1");
}

/// A filter on `field` alone, set as people set it: through its --filter options when it has
/// them (the CLI's and the window's parser), else as a click does.
bt::EventFilter filterOn(bt::Workspace& ws, const bt::Field& field)
{
    const std::string v = sampleValue(ws, field);
    bt::EventFilter f;
    std::string error;
    if (field.kind == bt::FieldKind::Time) {
        // The hour of the sample, so the cube answers it too.
        const auto [from, to] = bt::bucketTimes(v.substr(0, 13));
        EXPECT_TRUE(bt::applyFilterOption(f, field.options[0], from, &error)) << error;
        EXPECT_TRUE(bt::applyFilterOption(f, field.options[1], to, &error)) << error;
    } else if (field.match == bt::FieldMatch::Words) {
        // A word of the sample reply.
        const std::string word = v.substr(v.rfind(' ') + 1);
        EXPECT_TRUE(bt::applyFilterOption(f, field.options[0], word, &error)) << error;
    } else if (!field.options[0].empty()) {
        EXPECT_TRUE(bt::applyFilterOption(f, field.options[0], v, &error)) << field.id << ": " << error;
    } else {
        bt::setValue(f, field, v);
    }
    return f;
}

void expectSameGroups(const std::vector<bt::GroupRow>& sql, const std::vector<bt::GroupRow>& cube,
                      const std::string& what)
{
    ASSERT_EQ(sql.size(), cube.size()) << what;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        EXPECT_EQ(sql[i].key, cube[i].key) << what;
        EXPECT_EQ(sql[i].bounces, cube[i].bounces) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].deliveries, cube[i].deliveries) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].deferrals, cube[i].deferrals) << what << " " << sql[i].key;
    }
}

class FieldTable : public ::testing::Test
{
protected:
    TempWorkspace m_file;
    bt::Workspace m_ws {m_file.path.string()};
    void SetUp() override { addEvents(m_ws); }
};

TEST_F(FieldTable, EveryFieldFiltersInSqlAndCubeAndRoundTripsThroughOptions)
{
    const std::int64_t all = bt::countEvents(m_ws, {});
    std::set<std::string_view> ids, keys;
    for (const bt::Field& field : bt::kFields) {
        SCOPED_TRACE(std::string(field.id));
        EXPECT_TRUE(ids.insert(field.id).second) << "two fields share an id";
        EXPECT_EQ(bt::fieldById(field.id), &field);
        // Words for the window: the trail's word and the report's label.
        EXPECT_FALSE(field.word.empty());
        EXPECT_FALSE(field.label.empty());
        // The schema holds the column: a new field needs its migration.
        EXPECT_NO_THROW(m_ws.db().prepare("SELECT e." + std::string(field.column) + " FROM events e"));
        ASSERT_NE(sampleValue(m_ws, field), "(no row)") << "the fixture holds no " << field.column;

        const bt::EventFilter f = filterOn(m_ws, field);
        ASSERT_TRUE(bt::isSet(f, field));
        for (const bt::Field& other : bt::kFields) {
            if (&other != &field) {
                EXPECT_FALSE(bt::isSet(f, other)) << other.id << " set by a filter on " << field.id;
            }
        }

        // SQL: a term in its own half of the filter, matching the sample's events only.
        const bt::FilterSql sql = bt::filterSql(f);
        EXPECT_NE(field.population ? sql.population : sql.bounce, "1");
        EXPECT_EQ(field.population ? sql.bounce : sql.population, "1");
        const std::int64_t n = bt::countEvents(m_ws, f);
        EXPECT_GT(n, 0);
        EXPECT_LT(n, all);

        // The cube answers it, as SQL does.
        const bt::EventCube cube = bt::EventCube::build(m_ws, f.text);
        EXPECT_TRUE(cube.answers(f));
        expectSameGroups(bt::groupReport(m_ws, bt::GroupBy::Provider, f), cube.groupReport(bt::GroupBy::Provider, f),
                         "by provider");

        // Options: written back and read again, the same filter (a template has no option: it
        // is chosen by clicking a group or a chart).
        if (field.options[0].empty()) {
            EXPECT_EQ(field.kind, bt::FieldKind::Number) << "only ids are set by clicking alone";
            EXPECT_TRUE(bt::filterOptions(f).empty());
        } else {
            bt::EventFilter again;
            std::string error;
            for (const auto& o : bt::filterOptions(f))
                EXPECT_TRUE(bt::applyFilterOption(again, std::string_view(o), &error)) << error;
            EXPECT_EQ(again, f);
            for (const auto key : field.options) {
                if (key.empty())
                    continue;
                EXPECT_TRUE(keys.insert(key).second) << "two fields share the key " << key;
                EXPECT_NE(bt::filterOptionHelp().find(std::string(key) + "="), std::string::npos);
                EXPECT_EQ(bt::fieldByOption(key), &field);
            }
        }

        // Lists offer the workspace's values as choices.
        if (field.match == bt::FieldMatch::Any) {
            const auto values = bt::distinctValues(m_ws, std::string(field.id));
            EXPECT_NE(std::find(values.begin(), values.end(), sampleValue(m_ws, field)), values.end());
        }
    }
    EXPECT_EQ(bt::filterOptionKeys().size(), keys.size());
}

TEST_F(FieldTable, EveryGroupingGroupsInSqlAndCubeAndDrillsIntoItsField)
{
    const bt::EventCube cube = bt::EventCube::build(m_ws);
    std::set<bt::GroupBy> seen;
    for (const bt::GroupBy by : bt::groupings()) {
        const std::string name(bt::groupName(by));
        SCOPED_TRACE(name);
        EXPECT_TRUE(seen.insert(by).second);
        EXPECT_EQ(bt::groupByFromString(name), by);
        EXPECT_FALSE(bt::groupLabel(by).empty());
        const bt::Field& field = bt::fieldOf(by);
        EXPECT_TRUE(field.group == by || (by == bt::GroupBy::Hour && field.kind == bt::FieldKind::Time));
        EXPECT_EQ(bt::groupsCarryDeliveries(by), field.population);

        const auto rows = bt::groupReport(m_ws, by);
        expectSameGroups(rows, cube.groupReport(by, {}), "by " + name);
        // A double-click on a group: the filter names it, and finds its events.
        const auto row = std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.key != bt::kNoneKey; });
        ASSERT_NE(row, rows.end());
        bt::EventFilter f;
        bt::narrowToGroup(f, by, row->key, row->templateId);
        EXPECT_TRUE(bt::isSet(f, field));
        EXPECT_GT(bt::countEvents(m_ws, f), 0);
    }
    // Every GroupBy has its grouping (the enum ends at FromDomain).
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(bt::GroupBy::FromDomain) + 1);
}

} // namespace
