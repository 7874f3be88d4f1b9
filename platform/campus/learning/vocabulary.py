"""The words a course is described in: delivery types, required subjects and levels."""

# Labels as certificates print them (the course type a board reads): NCBTMB counts a recorded
# webinar as home study and refuses a certificate that calls it anything else.
DELIVERY_TYPES = {
    "home_study": "Home study",
    "live_webinar": "Live webinar",
    "recorded_webinar": "Home study (recorded webinar)",
}
# Subjects a renewal rule may require hours in; a course names those it covers.
SUBJECTS = {
    "ethics": "Professional ethics",
    "laws_and_rules": "Laws and rules",
    "medical_errors": "Prevention of medical errors",
    "human_trafficking": "Human trafficking awareness",
    "domestic_violence": "Domestic violence and sexual assault awareness",
    "child_abuse": "Child abuse recognition and reporting",
    "health_equity": "Health equity",
    "life_support": "Basic life support",
}
LEVELS = {
    "introductory": "Introductory",
    "intermediate": "Intermediate",
    "advanced": "Advanced",
}
