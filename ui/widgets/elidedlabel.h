// SPDX-License-Identifier: MIT
#pragma once

#include <QLabel>

/// A one-line plain-text label that shortens its text with "…" to the width it is given, and
/// shows the whole text as its tooltip. For a line whose length comes from data (a drill-down
/// trail naming the user's filters) beside other controls: a plain QLabel would either push
/// them off or be cut mid-word with no sign that anything is missing.
class ElidedLabel : public QLabel
{
    Q_OBJECT
public:
    explicit ElidedLabel(QWidget* parent = nullptr);

    /// The whole text; what is shown is it, shortened to the label's width.
    void setFullText(const QString& text);
    QString fullText() const { return m_full; }

    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void elide();

    QString m_full;
};
