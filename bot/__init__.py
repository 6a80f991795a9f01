"""The student Telegram bot (aiogram 3): wallet, top-ups, platforms, mentorship, admin decisions."""
