// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"

#include <QWidget>

#include <map>

class QComboBox;
class QDateTime;
class QDateTimeEdit;
class QLineEdit;
class QPushButton;

/// The filter panel of the triage window: date range, provider, domain, family, reason, codes,
/// spam-related, sending IP, campaign, event type and full-text search. It shows the drill-down's
/// filter and hands a new one to it on Apply (Enter in any field).
class FilterPanel : public QWidget
{
    Q_OBJECT
public:
    explicit FilterPanel(QWidget* parent = nullptr);

    /// Shows `filter` in the fields (without emitting anything).
    void showFilter(const bt::EventFilter& filter);
    /// The filter the fields describe.
    bt::EventFilter filter() const;
    /// The choices of a list field ("provider", "domain", "ip", "campaign", "family", "reason",
    /// "event_type"), most frequent first.
    void setChoices(const std::string& field, const std::vector<std::string>& values);
    /// The first and last event time of the workspace: the date fields' range.
    void setTimeSpan(const QDateTime& first, const QDateTime& last);
    /// Puts the keyboard focus in the text search (Ctrl+F).
    void focusSearch();

    QLineEdit* searchEdit() const { return m_search; }
    QComboBox* combo(const std::string& field) const;

Q_SIGNALS:
    /// The user asked for these filters (Apply or Enter).
    void applied(const bt::EventFilter& filter);
    void clearRequested();

private:
    QComboBox* addCombo(const std::string& field, bool editable);

    std::map<std::string, QComboBox*> m_combos;
    QDateTimeEdit* m_from = nullptr;
    QDateTimeEdit* m_to = nullptr;
    QLineEdit* m_basicCode = nullptr;
    QLineEdit* m_enhancedCode = nullptr;
    QComboBox* m_spam = nullptr;
    QLineEdit* m_search = nullptr;
    QPushButton* m_apply = nullptr;
    std::optional<std::int64_t> m_templateId;
};
