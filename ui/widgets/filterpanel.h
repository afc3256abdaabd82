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

/// The filter panel of the triage window: one row per field of the core's table (bt::kFields)
/// that has a panel label — date range, provider, domain, sending IP, campaign, event type,
/// family, reason, codes, spam-related and full-text search — in table order. It shows the
/// drill-down's filter and hands a new one to it on Apply (Enter in any field).
class FilterPanel : public QWidget
{
    Q_OBJECT
public:
    explicit FilterPanel(QWidget* parent = nullptr);

    /// Shows `filter` in the fields (without emitting anything).
    void showFilter(const bt::EventFilter& filter);
    /// The filter the fields describe.
    bt::EventFilter filter() const;
    /// The choices of a list field (a field id of bt::kFields filtered by a list: "provider",
    /// "event_type"…), most frequent first.
    void setChoices(const std::string& field, const std::vector<std::string>& values);
    /// The first and last event time of the workspace: the date fields' range.
    void setTimeSpan(const QDateTime& first, const QDateTime& last);
    /// Puts the keyboard focus in the text search (Ctrl+F).
    void focusSearch();

    QLineEdit* searchEdit() const { return m_search; }
    /// The combo box of a list or fixed-choice field, by field id; nullptr when it has none.
    QComboBox* combo(const std::string& field) const;
    /// The line edit of a code or text field, by field id; nullptr when it has none.
    QLineEdit* edit(const std::string& field) const;

Q_SIGNALS:
    /// The user asked for these filters (Apply or Enter).
    void applied(const bt::EventFilter& filter);
    void clearRequested();

private:
    QComboBox* addCombo(const std::string& field, bool editable);

    std::map<std::string, QComboBox*> m_combos; ///< list and fixed-choice fields, by id
    std::map<std::string, QLineEdit*> m_edits; ///< code and text fields, by id
    QDateTimeEdit* m_from = nullptr; ///< the time field's bounds
    QDateTimeEdit* m_to = nullptr;
    QLineEdit* m_search = nullptr; ///< the searched field's edit (Ctrl+F)
    QPushButton* m_apply = nullptr;
    /// The filter last shown, for the fields without a row (a template is chosen by clicking, not
    /// typed): they stay until cleared.
    bt::EventFilter m_shown;
};
