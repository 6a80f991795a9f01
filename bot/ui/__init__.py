"""What the student sees: formatting (format), error words (errors), keyboards, cards, statement lines, Mini App
buttons."""
