from __future__ import annotations

from datetime import date

import factory

from backend.accounts.models import (
    CaregiverLink,
    CareTeamMembership,
    Organisation,
    PatientProfile,
    Role,
    User,
)

TEST_PASSWORD = "correct-horse-battery-9"


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.PATIENT
    password = factory.django.Password(TEST_PASSWORD)


class ClinicianFactory(UserFactory):
    role = Role.PHYSIOTHERAPIST


class PatientProfileFactory(factory.django.DjangoModelFactory[PatientProfile]):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory, role=Role.PATIENT)
    date_of_birth = date(2013, 4, 1)
    timezone = "Europe/London"
    diagnosis = "Juvenile dermatomyositis"


class CareTeamMembershipFactory(factory.django.DjangoModelFactory[CareTeamMembership]):
    class Meta:
        model = CareTeamMembership

    patient = factory.SubFactory(PatientProfileFactory)
    member = factory.SubFactory(
        ClinicianFactory,
        organisation=factory.SelfAttribute("..patient.user.organisation"),
    )
    role = "physiotherapist"


class CaregiverLinkFactory(factory.django.DjangoModelFactory[CaregiverLink]):
    class Meta:
        model = CaregiverLink

    patient = factory.SubFactory(PatientProfileFactory)
    caregiver = factory.SubFactory(
        UserFactory,
        role=Role.CAREGIVER,
        organisation=factory.SelfAttribute("..patient.user.organisation"),
    )
    relationship = "parent"
