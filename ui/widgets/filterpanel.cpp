// SPDX-License-Identifier: MIT
#include "filterpanel.h"

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
    m_from = dateEdit();
    m_from->setObjectName(u"fromEdit"_s);
    m_to = dateEdit();
    m_to->setObjectName(u"toEdit"_s);
    form->addRow(tr("&From (UTC)"), m_from);
    form->addRow(tr("&To (UTC)"), m_to);

    form->addRow(tr("&Provider"), addCombo("provider", true));
    form->addRow(tr("&Domain"), addCombo("domain", true));
    form->addRow(tr("Fa&mily"), addCombo("family", false));
    form->addRow(tr("&Reason"), addCombo("reason", false));
    form->addRow(tr("Event t&ype"), addCombo("event_type", false));

    m_basicCode = new QLineEdit(this);
    m_basicCode->setObjectName(u"basicCodeEdit"_s);
    m_basicCode->setValidator(new QIntValidator(200, 599, m_basicCode));
    m_basicCode->setPlaceholderText(tr("e.g. 550"));
    m_enhancedCode = new QLineEdit(this);
    m_enhancedCode->setObjectName(u"enhancedCodeEdit"_s);
    m_enhancedCode->setValidator(
        new QRegularExpressionValidator(QRegularExpression(u"[245](\\.\\d{1,3}(\\.\\d{1,3})?)?"_s), m_enhancedCode));
    m_enhancedCode->setPlaceholderText(tr("5.7 or 5.7.1"));
    form->addRow(tr("&Code"), m_basicCode);
    form->addRow(tr("&Status"), m_enhancedCode);

    m_spam = new QComboBox(this);
    m_spam->setObjectName(u"spamCombo"_s);
    m_spam->addItem(tr("any"), QString());
    for (const char* v : {"yes", "often", "no", "unknown"})
        m_spam->addItem(QString::fromLatin1(v), QString::fromLatin1(v));
    form->addRow(tr("Spa&m-related"), m_spam);
    form->addRow(tr("Sending &IP"), addCombo("ip", true));
    form->addRow(tr("C&ampaign"), addCombo("campaign", true));

    m_search = new QLineEdit(this);
    m_search->setObjectName(u"searchEdit"_s);
    m_search->setPlaceholderText(tr("text in replies (Ctrl+F)"));
    m_search->setToolTip(tr("Replies holding every word typed, as written or as part of a longer word "
                            "(S3150 finds (AS3150)), in any case"));
    m_search->setClearButtonEnabled(true);
    form->addRow(tr("Searc&h"), m_search);

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
    for (QLineEdit* e : {m_basicCode, m_enhancedCode, m_search})
        connect(e, &QLineEdit::returnPressed, this, [this] { Q_EMIT applied(filter()); });
    for (auto& [field, combo] : m_combos) {
        if (combo->isEditable())
            connect(combo->lineEdit(), &QLineEdit::returnPressed, this, [this] { Q_EMIT applied(filter()); });
        else
            connect(combo, &QComboBox::activated, this, [this] { Q_EMIT applied(filter()); });
    }
    connect(m_spam, &QComboBox::activated, this, [this] { Q_EMIT applied(filter()); });
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
    const auto setCombo = [this](const std::string& field, const std::vector<std::string>& values) {
        QComboBox* c = combo(field);
        QSignalBlocker block(c);
        const QString v = values.empty() ? QString() : qs(values.front());
        if (c->isEditable()) {
            c->setEditText(v);
        } else {
            int i = c->findData(v);
            if (i < 0) {
                c->addItem(v, v);
                i = c->count() - 1;
            }
            c->setCurrentIndex(i);
        }
    };
    setCombo("provider", f.providers);
    setCombo("domain", f.domains);
    setCombo("family", f.families);
    setCombo("reason", f.reasons);
    setCombo("event_type", f.eventTypes);
    setCombo("ip", f.ips);
    setCombo("campaign", f.campaigns);
    m_from->setDateTime(f.from.empty() ? m_from->minimumDateTime() : fromIso(f.from));
    m_to->setDateTime(f.to.empty() ? m_to->minimumDateTime() : fromIso(f.to));
    m_basicCode->setText(f.basicCode ? QString::number(*f.basicCode) : QString());
    m_enhancedCode->setText(qs(f.enhancedCode));
    m_spam->setCurrentIndex(std::max(0, m_spam->findData(qs(f.spamRelated))));
    m_search->setText(qs(f.text));
    m_templateId = f.templateId;
}

bt::EventFilter FilterPanel::filter() const
{
    bt::EventFilter f;
    const auto read = [this](const std::string& field, std::vector<std::string>& out) {
        QComboBox* c = combo(field);
        const QString v = (c->isEditable() ? c->currentText() : c->currentData().toString()).trimmed();
        if (!v.isEmpty())
            out.push_back(v.toStdString());
    };
    read("provider", f.providers);
    read("domain", f.domains);
    read("family", f.families);
    read("reason", f.reasons);
    read("event_type", f.eventTypes);
    read("ip", f.ips);
    read("campaign", f.campaigns);
    if (m_from->dateTime() > m_from->minimumDateTime())
        f.from = iso(m_from->dateTime());
    if (m_to->dateTime() > m_to->minimumDateTime())
        f.to = iso(m_to->dateTime());
    bool ok = false;
    const int code = m_basicCode->text().toInt(&ok);
    if (ok)
        f.basicCode = code;
    f.enhancedCode = m_enhancedCode->text().trimmed().toStdString();
    f.spamRelated = m_spam->currentData().toString().toStdString();
    f.text = m_search->text().trimmed().toStdString();
    // A template is chosen by clicking, not typed: it stays until cleared.
    f.templateId = m_templateId;
    return f;
}
