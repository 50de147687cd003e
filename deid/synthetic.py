"""Synthetic clinical notes with planted identifiers of every Safe Harbor type, for tests and checks.

Values are drawn from the same public name and place lists the detector reads, plus random
numbers, so a note is new on every seed while each planted value is known exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from deid.gazetteers import gazetteers
from deid.spans import PhiType

_MONTHS = ["January", "February", "March", "April", "June", "July", "September", "October", "November", "December"]
_STREETS = ["Maple", "Oak", "Cedar", "Pine", "Washington", "Lincoln", "Elm", "Hillcrest", "Lakeview", "Ridge"]
_FACILITY = ["Hospital", "Medical Center", "Clinic", "Health Center"]
_CITIES = ["Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Arlington", "Salem", "Clinton"]
_STATES = ["IL", "MA", "OH", "TX", "CA", "NY", "WA", "GA"]


@dataclass(frozen=True, slots=True)
class PlantedNote:
    text: str
    planted: list[tuple[str, PhiType]]
    """Every identifier value in the note and its type."""


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def planted_note(seed: int) -> PlantedNote:
    """A discharge-style note holding one or more identifiers of every type."""
    rng = random.Random(seed)
    gaz = gazetteers()
    firsts = sorted(n.capitalize() for n in gaz.first_names if not gaz.common_word(n))
    lasts = sorted(n.capitalize() for n in gaz.last_names if not gaz.common_word(n) and n not in gaz.first_names)
    patient = f"{rng.choice(firsts)} {rng.choice(lasts)}"
    relative = rng.choice(firsts)
    doctor = rng.choice(lasts)
    month, day, year = rng.choice(_MONTHS), rng.randint(1, 28), rng.randint(2015, 2025)
    values = {
        "patient": (patient, PhiType.NAME),
        "relative": (relative, PhiType.NAME),
        "doctor": (doctor, PhiType.NAME),
        "admitted": (f"{month} {day}, {year}", PhiType.DATE),
        "dob": (f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1925, 1933)}", PhiType.DATE),
        "age": (f"{rng.randint(90, 104)}-year-old", PhiType.AGE),
        "street": (f"{rng.randint(10, 9999)} {rng.choice(_STREETS)} Street", PhiType.LOCATION),
        "city": (rng.choice(_CITIES), PhiType.LOCATION),
        "zip": (_digits(rng, 5), PhiType.LOCATION),
        "facility": (f"{rng.choice(lasts)} {rng.choice(_FACILITY)}", PhiType.LOCATION),
        "phone": (f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{_digits(rng, 4)}", PhiType.PHONE),
        "fax": (f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{_digits(rng, 4)}", PhiType.FAX),
        "email": (
            f"{patient.split()[0].lower()}.{patient.split()[1].lower()}{rng.randint(1, 99)}@mail.com",
            PhiType.EMAIL,
        ),
        "ssn": (f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{_digits(rng, 4)}", PhiType.SSN),
        "mrn": (_digits(rng, 8), PhiType.MRN),
        "account": (f"AC-{_digits(rng, 7)}", PhiType.ACCOUNT),
        "plan": (f"HP{_digits(rng, 9)}", PhiType.HEALTH_PLAN),
        "license": (f"{rng.choice('ABFM')}{_digits(rng, 7)}", PhiType.LICENSE),
        "vehicle": (f"{rng.choice('ABCDEFGHJ')}{rng.choice('KLMNPRST')}{_digits(rng, 5)}", PhiType.VEHICLE),
        "device": (f"SN-{_digits(rng, 6)}-{rng.choice('XYZ')}", PhiType.DEVICE),
        "url": (f"https://portal.example-health.org/patients/{_digits(rng, 6)}", PhiType.URL),
        "ip": (f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", PhiType.IP),
        "id": (f"#{rng.choice('QXZ')}{_digits(rng, 6)}", PhiType.ID),
    }
    state = rng.choice(_STATES)
    v = {k: value for k, (value, _) in values.items()}
    text = (
        f"DISCHARGE SUMMARY\nPatient: {v['patient']}   MRN: {v['mrn']}   DOB: {v['dob']}\n"
        f"Admitted {v['admitted']} to {v['facility']} under Dr. {v['doctor']}.\n"
        f"HPI: {v['age']} woman with fever, productive cough and dyspnea for 3 days. Her daughter {v['relative']} "
        f"brought her in. Chest X-ray showed right lower lobe consolidation; she has no chest pain.\n"
        f"Address: {v['street']}, {v['city']}, {state} {v['zip']}. Phone {v['phone']}, fax {v['fax']}, "
        f"e-mail {v['email']}.\nSSN {v['ssn']}. Account number {v['account']}. Insurance member ID {v['plan']}.\n"
        f"Pacemaker serial number {v['device']}. Vehicle plate {v['vehicle']}. Driver's license {v['license']}.\n"
        f"Portal {v['url']} (last login from {v['ip']}). Case reference {v['id']}.\n"
        f"Plan: amoxicillin for community-acquired pneumonia; {v['relative']} will call Dr. {v['doctor']} "
        f"if fever returns.\n"
    )
    return PlantedNote(text, list(values.values()))
