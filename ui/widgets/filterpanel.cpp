// SPDX-License-Identifier: MIT
#include "filterpanel.h"

#include "utils/fieldwords.h"

#include <QComboBox>
#include <QDateTimeEdit>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIntValidator>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QTimeZone>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

// The minimum of a date field means "no bound" and reads "any".
const QDateTime kNoBound(QDate(2000, 1, 1), QTime(0, 0), QTimeZone::utc());

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

std::string iso(const QDateTime& t)
{
    return t.toUTC().toString(u"yyyy-MM-ddTHH:mm:ssZ"_s).toStdString();
}

QDateTime fromIso(const std::string& s)
{
    QDateTime t = QDateTime::fromString(qs(s), Qt::ISODate);
    if (!t.isValid() && s.size() == 13) // an hour bucket: "2026-03-01T10"
        t = QDateTime::fromString(qs(s) + u":00:00Z"_s, Qt::ISODate);
    if (!t.isValid() && s.size() == 10)
        t = QDateTime(QDate::fromString(qs(s), Qt::ISODate), QTime(0, 0), QTimeZone::utc());
    return t.toUTC();
}

} // namespace

FilterPanel::FilterPanel(QWidget* parent)
    : QWidget(parent)
{
    setObjectName(u"filterPanel"_s);
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);

    const auto dateEdit = [this] {
        auto* e = new QDateTimeEdit(this);
        e->setTimeSpec(Qt::UTC);
        e->setDisplayFormat(u"yyyy-MM-dd HH:mm"_s);
        e->setMinimumDateTime(kNoBound);
        e->setSpecialValueText(tr("any"));
        e->setCalendarPopup(true);
        e->setDateTime(kNoBound);
        return e;
    };
    // One row per field of the table that has a panel label, in table order; a field without
    // one (a template) is set by clicking and carried through (m_shown).
    for (const bt::Field& field : bt::kFields) {
        const std::string id(field.id);
        if (field.kind == bt::FieldKind::Time) {
            m_from = dateEdit();
            m_from->setObjectName(qs(std::string(field.options[0])) + u"Edit"_s);
            m_to = dateEdit();
            m_to->setObjectName(qs(std::string(field.options[1])) + u"Edit"_s);
            form->addRow(tr("&From (UTC)"), m_from);
            form->addRow(tr("&To (UTC)"), m_to);
            continue;
        }
        if (field.panelLabel.empty())
            continue;
        QWidget* editor = nullptr;
        if (field.match == bt::FieldMatch::Any) {
            // Picked from the workspace's own values (families…) or typed (a provider).
            editor = addCombo(id, !field.picked);
        } else if (!field.choices.empty()) {
            auto* c = new QComboBox(this);
            c->setObjectName(qs(id) + u"Combo"_s);
            c->addItem(tr("any"), QString());
            for (const auto v : field.choices)
                c->addItem(qs(std::string(v)), qs(std::string(v)));
            m_combos[id] = c;
            editor = c;
        } else {
            auto* e = new QLineEdit(this);
            e->setObjectName(qs(id) + u"Edit"_s);
            e->setPlaceholderText(btui::fieldHint(field));
            if (field.kind == bt::FieldKind::Code && field.match == bt::FieldMatch::Equal)
                e->setValidator(new QIntValidator(200, 599, e));
            else if (field.kind == bt::FieldKind::Code)
                e->setValidator(
                    new QRegularExpressionValidator(QRegularExpression(u"[245](\\.\\d{1,3}(\\.\\d{1,3})?)?"_s), e));
            if (field.match == bt::FieldMatch::Words) {
                e->setToolTip(tr("Replies holding every word typed, as written or as part of a longer word "
                                 "(S3150 finds (AS3150)), in any case"));
                e->setClearButtonEnabled(true);
                m_search = e;
            }
            m_edits[id] = e;
            editor = e;
        }
        form->addRow(btui::fieldPanelLabel(field), editor);
    }

    m_apply = new QPushButton(tr("&Apply"), this);
    m_apply->setObjectName(u"applyButton"_s);
    m_apply->setDefault(true);
    auto* clear = new QPushButton(tr("Clea&r"), this);
    clear->setObjectName(u"clearButton"_s);
    clear->setToolTip(tr("Show all events again (Reset)"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_apply);
    buttons->addWidget(clear);

    auto* title = new QLabel(tr("<b>Filters</b>"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(title);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addStretch(1);

    connect(m_apply, &QPushButton::clicked, this, [this] { Q_EMIT applied(filter()); });
    connect(clear, &QPushButton::clicked, this, &FilterPanel::clearRequested);
    for (auto& [field, e] : m_edits)
        connect(e, &QLineEdit::returnPressed, this, [this] { Q_EMIT applied(filter()); });
    for (auto& [field, combo] : m_combos) {
        if (combo->isEditable())
            connect(combo->lineEdit(), &QLineEdit::returnPressed, this, [this] { Q_EMIT applied(filter()); });
        else
            connect(combo, &QComboBox::activated, this, [this] { Q_EMIT applied(filter()); });
    }
}

QComboBox* FilterPanel::addCombo(const std::string& field, bool editable)
{
    auto* c = new QComboBox(this);
    c->setObjectName(qs(field) + u"Combo"_s);
    c->setEditable(editable);
    c->setInsertPolicy(QComboBox::NoInsert);
    c->setMinimumContentsLength(12);
    c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    c->addItem(editable ? QString() : tr("any"), QString());
    if (editable)
        c->lineEdit()->setPlaceholderText(tr("any"));
    m_combos[field] = c;
    return c;
}

QComboBox* FilterPanel::combo(const std::string& field) const
{
    const auto it = m_combos.find(field);
    return it == m_combos.end() ? nullptr : it->second;
}

QLineEdit* FilterPanel::edit(const std::string& field) const
{
    const auto it = m_edits.find(field);
    return it == m_edits.end() ? nullptr : it->second;
}

void FilterPanel::setChoices(const std::string& field, const std::vector<std::string>& values)
{
    QComboBox* c = combo(field);
    if (!c)
        return;
    const QString current = c->isEditable() ? c->currentText() : c->currentData().toString();
    QSignalBlocker block(c);
    c->clear();
    c->addItem(c->isEditable() ? QString() : tr("any"), QString());
    for (const auto& v : values)
        c->addItem(qs(v), qs(v));
    if (c->isEditable())
        c->setEditText(current);
    else
        c->setCurrentIndex(std::max(0, c->findData(current)));
}

void FilterPanel::setTimeSpan(const QDateTime& first, const QDateTime& last)
{
    // "any" is the field's minimum: placed just before the workspace's first event, so the
    // calendar opens on the data rather than in the year 2000.
    for (QDateTimeEdit* e : {m_from, m_to}) {
        const bool any = e->dateTime() <= e->minimumDateTime();
        QSignalBlocker block(e);
        const QDateTime floor
            = first.isValid() ? QDateTime(first.date().addDays(-1), QTime(0, 0), QTimeZone::utc()) : kNoBound;
        e->setMinimumDateTime(floor);
        if (last.isValid())
            e->setMaximumDateTime(QDateTime(last.date().addDays(2), QTime(0, 0), QTimeZone::utc()));
        if (any)
            e->setDateTime(floor);
    }
}

void FilterPanel::focusSearch()
{
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

void FilterPanel::showFilter(const bt::EventFilter& f)
{
    m_shown = f;
    for (const bt::Field& field : bt::kFields) {
        const std::string id(field.id);
        const QStringList values = btui::fieldValues(f, field);
        if (field.kind == bt::FieldKind::Time) {
            m_from->setDateTime(values.isEmpty() || values[0].isEmpty() ? m_from->minimumDateTime()
                                                                        : fromIso(values[0].toStdString()));
            m_to->setDateTime(values.isEmpty() || values[1].isEmpty() ? m_to->minimumDateTime()
                                                                      : fromIso(values[1].toStdString()));
            continue;
        }
        // The panel holds one value per field: the first of a list.
        const QString v = values.isEmpty() ? QString() : values.front();
        if (QLineEdit* e = edit(id)) {
            e->setText(v);
        } else if (QComboBox* c = combo(id)) {
            QSignalBlocker block(c);
            if (c->isEditable()) {
                c->setEditText(v);
            } else {
                int i = c->findData(v);
                if (i < 0 && field.match == bt::FieldMatch::Any) { // a list value not among the choices
                    c->addItem(v, v);
                    i = c->count() - 1;
                }
                c->setCurrentIndex(std::max(0, i));
            }
        }
    }
}

bt::EventFilter FilterPanel::filter() const
{
    bt::EventFilter f;
    for (const bt::Field& field : bt::kFields) {
        const std::string id(field.id);
        QString v;
        if (field.kind == bt::FieldKind::Time) {
            if (m_from->dateTime() > m_from->minimumDateTime())
                bt::setValue(f, field, iso(m_from->dateTime()), 0);
            if (m_to->dateTime() > m_to->minimumDateTime())
                bt::setValue(f, field, iso(m_to->dateTime()), 1);
            continue;
        } else if (const QLineEdit* e = edit(id)) {
            v = e->text().trimmed();
            if (field.kind == bt::FieldKind::Code && field.match == bt::FieldMatch::Equal) {
                bool ok = false;
                const int code = v.toInt(&ok);
                v = ok ? QString::number(code) : QString();
            }
        } else if (const QComboBox* c = combo(id)) {
            v = (c->isEditable() ? c->currentText() : c->currentData().toString()).trimmed();
        } else {
            // No row: as last shown.
            for (const auto& value : bt::valuesOf(m_shown, field))
                bt::setValue(f, field, value);
            continue;
        }
        if (!v.isEmpty())
            bt::setValue(f, field, v.toStdString());
    }
    return f;
}
