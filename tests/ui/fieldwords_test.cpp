// SPDX-License-Identifier: MIT
// The field table (bt::kFields) walked through the window's consumers: a field the filter panel
// drops, the drill-down trail or the report does not name, or a grouping without a header,
// fails here. The core's consumers are walked in tests/core/fields_test.cpp.
#include "fields.h"
#include "models/drilldown.h"
#include "models/grouptablemodel.h"
#include "utils/fieldwords.h"
#include "utils/triagereport.h"
#include "widgets/filterpanel.h"

#include <QAbstractButton>
#include <QDateTimeEdit>
#include <QLabel>
#include <QString>

#include <gtest/gtest.h>

#include <map>

using namespace Qt::StringLiterals;

namespace
{

/// A filter on `field` alone with a value of its kind.
bt::EventFilter filterOn(const bt::Field& field)
{
    bt::EventFilter f;
    switch (field.kind) {
    case bt::FieldKind::Time:
        bt::setValue(f, field, "2026-03-01T10:00:00Z", 0);
        bt::setValue(f, field, "2026-03-01T11:00:00Z", 1);
        break;
    case bt::FieldKind::Code:
        bt::setValue(f, field, field.match == bt::FieldMatch::Prefix ? "5.7.1" : "550");
        break;
    case bt::FieldKind::Number:
        bt::setValue(f, field, "12");
        break;
    case bt::FieldKind::Text:
        bt::setValue(f, field, field.choices.empty() ? "example value" : std::string(field.choices.front()));
        break;
    }
    return f;
}

} // namespace

TEST(FieldWords, EveryFieldIsShownDescribedAndReadBackByThePanel)
{
    FilterPanel panel;
    for (const bt::Field& field : bt::kFields) {
        SCOPED_TRACE(std::string(field.id));
        const bt::EventFilter f = filterOn(field);
        ASSERT_TRUE(bt::isSet(f, field));
        // The trail and the report name it in the table's words.
        const QString trail = btui::describeFilter(f);
        EXPECT_TRUE(trail.startsWith(btui::fieldWord(field) + u' ')) << trail.toStdString();
        const QString report = btui::reportFilterWords(f);
        EXPECT_NE(report, u"all events"_s);
        EXPECT_TRUE(report.contains(btui::fieldLabel(field)) || report.contains(btui::fieldWord(field))
                    || field.kind == bt::FieldKind::Time)
            << report.toStdString();
        // The panel shows it and gives it back unchanged (a field without a row is carried).
        panel.showFilter(f);
        EXPECT_EQ(panel.filter(), f);
        // A row for every field with a panel label: a time field's two date edits, else a combo
        // box or a line edit.
        if (field.kind == bt::FieldKind::Time) {
            for (const auto key : field.options)
                EXPECT_NE(
                    panel.findChild<QDateTimeEdit*>(QString::fromUtf8(key.data(), qsizetype(key.size())) + u"Edit"_s),
                    nullptr);
        } else {
            const std::string id(field.id);
            EXPECT_EQ(field.panelLabel.empty(), panel.combo(id) == nullptr && panel.edit(id) == nullptr);
        }
    }
    panel.showFilter({});
    EXPECT_TRUE(panel.filter().empty());
}

// Every label and button of the panel has its own Alt+letter: two that share one make the
// shortcut cycle between them instead of going where the user pressed.
TEST(FieldWords, ThePanelsShortcutLettersAreAllDifferent)
{
    FilterPanel panel;
    std::map<QChar, QString> seen;
    auto check = [&](const QString& text) {
        const auto amp = text.indexOf(u'&');
        if (amp < 0 || amp + 1 >= text.size() || text[amp + 1] == u'&')
            return;
        const QChar key = text[amp + 1].toLower();
        const auto [it, fresh] = seen.emplace(key, text);
        EXPECT_TRUE(fresh) << "Alt+" << QString(key).toStdString() << " for both \"" << it->second.toStdString()
                           << "\" and \"" << text.toStdString() << "\"";
    };
    for (const auto* label : panel.findChildren<QLabel*>())
        check(label->text());
    for (const auto* button : panel.findChildren<QAbstractButton*>())
        check(button->text());
    EXPECT_GE(seen.size(), 10u);
}

TEST(FieldWords, EveryGroupingHasAHeader)
{
    GroupTableModel model;
    for (const bt::GroupBy by : bt::groupings()) {
        model.setRows(by, {});
        const QString header = model.headerData(GroupTableModel::Key, Qt::Horizontal).toString();
        EXPECT_FALSE(header.isEmpty());
        EXPECT_EQ(header, btui::groupLabel(by));
    }
}
