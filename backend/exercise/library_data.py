"""Starter exercise library shipped with PhysioTrack.

These are global exercises (their organisation is empty), written in plain English by the
PhysioTrack team for home programmes in juvenile dermatomyositis and other inflammatory
myopathies with calcinosis (shared/DOMAIN.md sections 1 and 3). They are not clinical advice.
Each default dose is a low starting point for the supervising physiotherapist to adjust for
the individual patient; progression is always the physiotherapist's decision.

Codes used here are those of ``backend.exercise.codes`` (Category, BodyRegion, MuscleGroup,
Equipment, LoadUnit and IntensityScale).
"""

from __future__ import annotations

from typing import Any

STARTER_EXERCISES: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ resistance
    {
        "name": "Sit-to-stand from a chair",
        "instructions": (
            "1. Sit near the front of a firm chair with your feet flat and hip-width apart.\n"
            "2. Lean forward slightly and stand up, using your hands on your thighs only if "
            "needed.\n"
            "3. Stand tall for a moment.\n"
            "4. Sit back down slowly and with control."
        ),
        "category": "resistance",
        "body_regions": ["hip", "leg"],
        "muscle_groups": ["gluteus_maximus", "quadriceps"],
        "equipment": ["chair", "cushion"],
        "default_dose": {
            "sets": 2,
            "reps": 8,
            "load_unit": "body_weight",
            "rest_seconds": 60,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Put the chair against a wall so it cannot slide. If the seat presses on a "
            "calcinosis nodule on the buttock or thigh, sit on a soft cushion."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Seated knee straightening with an ankle weight",
        "instructions": (
            "1. Sit upright in a chair with the ankle weight fastened above one ankle.\n"
            "2. Slowly straighten the knee until the leg is level with the seat.\n"
            "3. Hold for two seconds, then lower slowly.\n"
            "4. Do all repetitions on one leg, then change legs."
        ),
        "category": "resistance",
        "body_regions": ["leg"],
        "muscle_groups": ["quadriceps"],
        "equipment": ["chair", "ankle_weight"],
        "default_dose": {
            "sets": 2,
            "reps": 10,
            "load_unit": "kg",
            "load_value": "0.5",
            "rest_seconds": 60,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Fasten the ankle weight over a sock and away from any calcinosis nodule; if it "
            "rubs or presses on one, remove the weight and do the movement without it."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Side-lying leg lift",
        "instructions": (
            "1. Lie on your side on a mat with the lower knee bent for support.\n"
            "2. Keep the top leg straight and in line with your body.\n"
            "3. Lift the top leg slowly to about hip height, then lower it with control.\n"
            "4. Finish the set, then turn over and work the other leg."
        ),
        "category": "resistance",
        "body_regions": ["hip"],
        "muscle_groups": ["gluteus_medius"],
        "equipment": ["mat", "cushion"],
        "default_dose": {
            "sets": 2,
            "reps": 8,
            "load_unit": "body_weight",
            "rest_seconds": 60,
        },
        "safety_notes": (
            "Lying on your side puts pressure on the lower hip and elbow; place a soft cushion "
            "under any calcinosis site there, or ask for a standing version instead."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Bridge lying on your back",
        "instructions": (
            "1. Lie on your back on a mat with knees bent and feet flat.\n"
            "2. Squeeze your buttocks and lift your hips until your body is in a straight line "
            "from shoulders to knees.\n"
            "3. Hold for two seconds, then lower slowly."
        ),
        "category": "resistance",
        "body_regions": ["hip", "trunk"],
        "muscle_groups": ["gluteus_maximus"],
        "equipment": ["mat"],
        "default_dose": {
            "sets": 2,
            "reps": 8,
            "load_unit": "body_weight",
            "rest_seconds": 60,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Do not let a calcinosis nodule on the lower back, shoulder blades or elbows take "
            "your weight on the floor; pad it with a cushion or skip this exercise."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Side arm raise with a resistance band",
        "instructions": (
            "1. Stand or sit tall and hold the band across your front, both hands at hip level.\n"
            "2. Keeping the elbow almost straight, lift one arm out to the side up to "
            "shoulder height against the band.\n"
            "3. Lower slowly and repeat, then change arms."
        ),
        "category": "resistance",
        "body_regions": ["shoulder"],
        "muscle_groups": ["deltoid_middle"],
        "equipment": ["band"],
        "default_dose": {
            "sets": 2,
            "reps": 10,
            "load_unit": "band",
            "band_colour": "yellow",
            "rest_seconds": 60,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Keep the band from rubbing over calcinosis on the arms or hands; wrap it around a "
            "sleeve or towel if needed. Stop at shoulder height if lifting higher hurts."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Seated biceps curl with a light dumbbell",
        "instructions": (
            "1. Sit tall in a chair holding a light dumbbell, arm by your side, palm forward.\n"
            "2. Bend the elbow to bring the weight up towards your shoulder.\n"
            "3. Lower slowly until the arm is straight again.\n"
            "4. Finish the set, then change arms."
        ),
        "category": "resistance",
        "body_regions": ["arm"],
        "muscle_groups": ["biceps_brachii"],
        "equipment": ["dumbbell", "chair"],
        "default_dose": {
            "sets": 2,
            "reps": 10,
            "load_unit": "kg",
            "load_value": "0.5",
            "rest_seconds": 60,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "If gripping presses on calcinosis in the fingers or palm, wrap the handle in a "
            "soft cloth or use a water bottle you can hold comfortably."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Wrist lift with a light dumbbell",
        "instructions": (
            "1. Sit at a table and rest your forearm on a cushion, hand over the edge, palm "
            "down.\n"
            "2. Holding a light dumbbell, lift the back of the hand up towards the ceiling.\n"
            "3. Lower slowly and repeat, then change hands."
        ),
        "category": "resistance",
        "body_regions": ["arm"],
        "muscle_groups": ["wrist_extensors"],
        "equipment": ["dumbbell", "chair", "cushion"],
        "default_dose": {
            "sets": 2,
            "reps": 10,
            "load_unit": "kg",
            "load_value": "0.5",
            "rest_seconds": 45,
        },
        "safety_notes": (
            "Rest the forearm on a soft cushion, not the bare table, so calcinosis at the elbow "
            "or forearm is not pressed or rubbed."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Head lift lying on your back",
        "instructions": (
            "1. Lie on your back on a mat with knees bent.\n"
            "2. Tuck your chin in gently as if nodding.\n"
            "3. Lift your head a few centimetres off the mat, keeping the chin tucked.\n"
            "4. Hold for two seconds, then lower slowly and rest your head."
        ),
        "category": "resistance",
        "body_regions": ["neck"],
        "muscle_groups": ["neck_flexors"],
        "equipment": ["mat"],
        "default_dose": {
            "sets": 2,
            "reps": 5,
            "load_unit": "body_weight",
            "rest_seconds": 60,
            "intensity_scale": "cr10",
            "intensity_target": "3",
        },
        "safety_notes": (
            "Stop if you feel neck pain or dizziness. Tell your care team the same day about "
            "any new difficulty swallowing or a nasal-sounding voice."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Ankle pull-up with a resistance band",
        "instructions": (
            "1. Sit on a chair with one leg straight out and the heel on the floor.\n"
            "2. Loop the band over the top of your shoe and hold or anchor the ends in front.\n"
            "3. Pull your toes up towards you against the band, then let them down slowly.\n"
            "4. Finish the set, then change feet."
        ),
        "category": "resistance",
        "body_regions": ["ankle"],
        "muscle_groups": ["ankle_dorsiflexors"],
        "equipment": ["band", "chair"],
        "default_dose": {
            "sets": 2,
            "reps": 10,
            "load_unit": "band",
            "band_colour": "yellow",
            "rest_seconds": 45,
        },
        "safety_notes": (
            "Keep your shoe on so the band does not rub bare skin; move it away from any "
            "calcinosis nodule on the foot or ankle."
        ),
        "video_url": "",
        "image_url": "",
    },
    # ------------------------------------------------------------------ aerobic
    {
        "name": "Steady cycling on a stationary bike",
        "instructions": (
            "1. Set the saddle so your knee is slightly bent at the bottom of each pedal turn.\n"
            "2. Pedal easily for the first two minutes to warm up.\n"
            "3. Keep a steady pace at which you can still talk in short sentences.\n"
            "4. Pedal easily for the last two minutes to cool down."
        ),
        "category": "aerobic",
        "body_regions": ["leg", "whole_body"],
        "muscle_groups": ["quadriceps", "gluteus_maximus"],
        "equipment": ["bike"],
        "default_dose": {
            "duration_minutes": 10,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Pad the saddle if it presses on calcinosis at the buttocks or thighs. Stop and "
            "tell your care team if your urine turns dark after exercise."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Interval cycling on a stationary bike",
        "instructions": (
            "1. Warm up with two minutes of easy pedalling.\n"
            "2. Pedal a little harder for the work interval.\n"
            "3. Pedal very easily for the rest interval.\n"
            "4. Repeat work and rest for the set number of rounds, then cool down."
        ),
        "category": "aerobic",
        "body_regions": ["leg", "whole_body"],
        "muscle_groups": ["quadriceps", "gluteus_maximus"],
        "equipment": ["bike"],
        "default_dose": {
            "duration_minutes": 12,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
            "interval_work_seconds": 30,
            "interval_rest_seconds": 60,
            "interval_repeats": 6,
        },
        "safety_notes": (
            "Work intervals should feel only somewhat hard, never all-out. Stop and tell your "
            "care team if muscle pain is far worse than usual or your urine turns dark."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Brisk walking outdoors",
        "instructions": (
            "1. Put on sun protection before going out.\n"
            "2. Walk at an easy pace for the first few minutes.\n"
            "3. Walk briskly enough to breathe faster while still able to talk.\n"
            "4. Slow down for the last few minutes."
        ),
        "category": "aerobic",
        "body_regions": ["whole_body"],
        "muscle_groups": [],
        "equipment": ["none"],
        "default_dose": {
            "duration_minutes": 15,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Sunlight can flare the skin in dermatomyositis: wear a hat, long sleeves and "
            "high-factor sunscreen, and avoid the midday sun. Wear well-fitting shoes that do "
            "not rub calcinosis on the feet."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Marching on the spot",
        "instructions": (
            "1. Stand next to a chair or kitchen worktop you can hold if needed.\n"
            "2. March on the spot, lifting your knees to a comfortable height.\n"
            "3. Swing your arms gently as you march.\n"
            "4. Slow the pace for the last minute."
        ),
        "category": "aerobic",
        "body_regions": ["whole_body", "hip", "leg"],
        "muscle_groups": [],
        "equipment": ["none", "chair"],
        "default_dose": {
            "duration_minutes": 5,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "Keep a support within reach in case you tire or lose balance. Stop if you feel "
            "faint or unusually short of breath."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Step-up intervals on a low step",
        "instructions": (
            "1. Stand facing a low, stable step with a rail or wall to hold.\n"
            "2. Step up with one foot, bring the other up, then step down the same way.\n"
            "3. Keep stepping for the work interval, leading with alternate feet.\n"
            "4. Rest standing for the rest interval, then repeat."
        ),
        "category": "aerobic",
        "body_regions": ["leg", "hip"],
        "muscle_groups": ["quadriceps", "gluteus_maximus"],
        "equipment": ["step", "wall"],
        "default_dose": {
            "duration_minutes": 8,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
            "interval_work_seconds": 30,
            "interval_rest_seconds": 30,
            "interval_repeats": 8,
        },
        "safety_notes": (
            "Use a step no higher than a normal stair and always have something to hold. "
            "Stop and tell your care team if your urine turns dark after exercise."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Seated arm and leg workout",
        "instructions": (
            "1. Sit tall near the front of a sturdy chair.\n"
            "2. Alternate lifting your knees while reaching the opposite arm forward.\n"
            "3. Switch to tapping your feet out to the sides while raising both arms.\n"
            "4. Keep moving at a steady pace, then slow down for the last minute."
        ),
        "category": "aerobic",
        "body_regions": ["whole_body", "shoulder"],
        "muscle_groups": [],
        "equipment": ["chair"],
        "default_dose": {
            "duration_minutes": 10,
            "intensity_scale": "rpe_6_20",
            "intensity_target": "11",
        },
        "safety_notes": (
            "A good choice on days of low energy or poor balance. Sit on a cushion if the chair "
            "presses on calcinosis at the buttocks or thighs."
        ),
        "video_url": "",
        "image_url": "",
    },
    # ------------------------------------------------------------------ mobility
    {
        "name": "Gentle neck turns and tilts",
        "instructions": (
            "1. Sit tall with your shoulders relaxed.\n"
            "2. Turn your head slowly to look over one shoulder, then the other.\n"
            "3. Tilt your ear slowly towards one shoulder, then the other.\n"
            "4. Return to the middle after each movement."
        ),
        "category": "mobility",
        "body_regions": ["neck"],
        "muscle_groups": [],
        "equipment": ["chair"],
        "default_dose": {"sets": 2, "reps": 5},
        "safety_notes": (
            "Move slowly and only as far as is comfortable; stop if you feel dizzy or get "
            "pins and needles in the arms."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Wall slide for shoulder reach",
        "instructions": (
            "1. Stand facing a wall with your hands on a small towel against it.\n"
            "2. Slide your hands up the wall as high as is comfortable.\n"
            "3. Hold for a breath, then slide them back down slowly."
        ),
        "category": "mobility",
        "body_regions": ["shoulder", "arm"],
        "muscle_groups": [],
        "equipment": ["wall"],
        "default_dose": {"sets": 2, "reps": 8},
        "safety_notes": (
            "Slide on a towel so calcinosis on the fingers, hands or forearms is not rubbed by "
            "the wall."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Seated trunk turn",
        "instructions": (
            "1. Sit tall on a chair with your feet flat and arms crossed over your chest.\n"
            "2. Turn your upper body slowly to one side as far as is comfortable.\n"
            "3. Hold, then come back to the middle and turn to the other side."
        ),
        "category": "mobility",
        "body_regions": ["trunk"],
        "muscle_groups": [],
        "equipment": ["chair"],
        "default_dose": {"sets": 2, "hold_seconds": 10},
        "safety_notes": (
            "Turn gently without bouncing. Do not twist against the chair back if it presses on "
            "calcinosis over the spine or shoulder blades."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Standing hip front stretch",
        "instructions": (
            "1. Stand side-on to a chair and hold its back.\n"
            "2. Step one foot back and keep the back heel lifted.\n"
            "3. Tuck your tailbone under until you feel a stretch at the front of the back hip.\n"
            "4. Hold, then change sides."
        ),
        "category": "mobility",
        "body_regions": ["hip"],
        "muscle_groups": [],
        "equipment": ["chair"],
        "default_dose": {"sets": 2, "hold_seconds": 20},
        "safety_notes": (
            "This standing version replaces the kneeling stretch so no calcinosis site on the "
            "knees bears weight. Feel a gentle stretch, never pain."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Calf stretch against a wall",
        "instructions": (
            "1. Stand facing a wall with both hands on it at shoulder height.\n"
            "2. Step one foot back and keep that heel on the floor with the knee straight.\n"
            "3. Bend the front knee until you feel a stretch in the back calf.\n"
            "4. Hold, then change legs."
        ),
        "category": "mobility",
        "body_regions": ["ankle", "leg"],
        "muscle_groups": [],
        "equipment": ["wall"],
        "default_dose": {"sets": 2, "hold_seconds": 30},
        "safety_notes": (
            "Tight calves and ankles are common in myositis; stretch gently without bouncing. "
            "Tell your physiotherapist if an ankle feels blocked or stiffer than before."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Elbow and wrist range of motion",
        "instructions": (
            "1. Sit with your elbow bent at your side.\n"
            "2. Straighten the elbow fully, then bend it fully.\n"
            "3. With the elbow bent, turn the palm up, then down.\n"
            "4. Bend the wrist up and down slowly."
        ),
        "category": "mobility",
        "body_regions": ["arm"],
        "muscle_groups": [],
        "equipment": ["none"],
        "default_dose": {"sets": 2, "reps": 10},
        "safety_notes": (
            "Do the movements in the air, not pressing the elbow on a table. Report any new "
            "stiffness or a nodule that stops the joint moving fully."
        ),
        "video_url": "",
        "image_url": "",
    },
    # ------------------------------------------------------------------ balance
    {
        "name": "Standing on one leg with chair support",
        "instructions": (
            "1. Stand beside a sturdy chair and rest one hand on its back.\n"
            "2. Lift one foot just off the floor and stand tall.\n"
            "3. Hold, then put the foot down and change legs."
        ),
        "category": "balance",
        "body_regions": ["hip", "ankle"],
        "muscle_groups": ["gluteus_medius"],
        "equipment": ["chair"],
        "default_dose": {"sets": 3, "hold_seconds": 15},
        "safety_notes": (
            "Keep a hand on the chair until your physiotherapist says you can let go. Clear "
            "the floor around you of anything you could trip on."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Heel-to-toe standing",
        "instructions": (
            "1. Stand next to a wall with one hand on it.\n"
            "2. Place one foot directly in front of the other, heel touching toe.\n"
            "3. Hold the position standing tall, then swap which foot is in front."
        ),
        "category": "balance",
        "body_regions": ["ankle", "leg"],
        "muscle_groups": [],
        "equipment": ["wall"],
        "default_dose": {"sets": 2, "hold_seconds": 20},
        "safety_notes": (
            "Stand close to the wall so you can steady yourself at once. Wear shoes if a "
            "calcinosis nodule on the foot makes bare-foot standing sore."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Side-to-side weight shift",
        "instructions": (
            "1. Stand with feet apart, holding the back of a chair lightly.\n"
            "2. Shift your weight slowly onto one foot until the other foot feels light.\n"
            "3. Shift back through the middle onto the other foot."
        ),
        "category": "balance",
        "body_regions": ["hip", "ankle"],
        "muscle_groups": ["gluteus_medius"],
        "equipment": ["chair"],
        "default_dose": {"sets": 2, "reps": 10},
        "safety_notes": (
            "Keep both feet on the floor and move slowly; stop and sit down if you feel dizzy "
            "or unsteady."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Standing on a soft cushion",
        "instructions": (
            "1. Place a firm cushion on the floor next to a chair or wall.\n"
            "2. Step onto the cushion with both feet, holding the support.\n"
            "3. Stand tall and loosen your grip if you feel steady.\n"
            "4. Hold, then step off carefully."
        ),
        "category": "balance",
        "body_regions": ["ankle"],
        "muscle_groups": [],
        "equipment": ["cushion", "chair"],
        "default_dose": {"sets": 2, "hold_seconds": 20},
        "safety_notes": (
            "Only progress to this once standing on one leg with support feels easy. Do it in "
            "socks or shoes if a calcinosis nodule on the sole is sore."
        ),
        "video_url": "",
        "image_url": "",
    },
    # ------------------------------------------------------------------ functional
    {
        "name": "Getting down to and up from the floor using a chair",
        "instructions": (
            "1. Stand facing a sturdy chair with a mat and a folded towel on the floor.\n"
            "2. Holding the chair, lower yourself to sit or half-kneel on the padded mat.\n"
            "3. To get up, hold the chair, bring one foot forward and push up to standing."
        ),
        "category": "functional",
        "body_regions": ["whole_body", "hip", "leg"],
        "muscle_groups": ["gluteus_maximus", "quadriceps"],
        "equipment": ["chair", "mat", "cushion"],
        "default_dose": {"sets": 1, "reps": 5, "rest_seconds": 90},
        "safety_notes": (
            "Avoid kneeling on a calcinosis site; use a folded towel or choose a way down that "
            "keeps weight off the knee."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Climbing stairs with a handrail",
        "instructions": (
            "1. Stand at the bottom of a short flight of stairs, holding the handrail.\n"
            "2. Walk up three to five stairs at a steady pace.\n"
            "3. Turn carefully and walk back down, still holding the rail.\n"
            "4. Each trip up and down counts as one repetition."
        ),
        "category": "functional",
        "body_regions": ["leg", "hip"],
        "muscle_groups": ["quadriceps", "gluteus_maximus"],
        "equipment": ["step"],
        "default_dose": {"sets": 1, "reps": 5, "rest_seconds": 60},
        "safety_notes": (
            "Always use the handrail and go at your own pace. Tell your physiotherapist if "
            "stairs are becoming harder than they were."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Reaching up to a shelf with a light object",
        "instructions": (
            "1. Stand facing a shelf at about head height.\n"
            "2. Pick up a light object such as a plastic cup from the worktop.\n"
            "3. Lift it up and place it on the shelf, then bring it back down."
        ),
        "category": "functional",
        "body_regions": ["shoulder", "arm"],
        "muscle_groups": ["deltoid_middle"],
        "equipment": ["none"],
        "default_dose": {"sets": 2, "reps": 8},
        "safety_notes": (
            "Use an unbreakable object and a shelf you can reach without going on tiptoe. Stop "
            "if lifting the arm causes sharp shoulder pain."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Rolling from lying to sitting",
        "instructions": (
            "1. Lie on your back on a mat or bed with knees bent.\n"
            "2. Roll onto your side, keeping knees together.\n"
            "3. Push up with your arms to sit, letting your legs lower over the edge of the bed "
            "if using one.\n"
            "4. Lie back down the same way in reverse."
        ),
        "category": "functional",
        "body_regions": ["trunk", "neck"],
        "muscle_groups": ["neck_flexors"],
        "equipment": ["mat"],
        "default_dose": {"sets": 2, "reps": 5},
        "safety_notes": (
            "Push up through your hands rather than an elbow if there is calcinosis at the "
            "elbow. Sit for a moment before standing in case you feel light-headed."
        ),
        "video_url": "",
        "image_url": "",
    },
    {
        "name": "Squat to pick up a ball from the floor",
        "instructions": (
            "1. Stand with feet hip-width apart, a ball on the floor in front of you and a chair "
            "beside you.\n"
            "2. Bend your knees and hips to reach down and pick up the ball, holding the chair "
            "if needed.\n"
            "3. Stand up tall with the ball, then lower it back to the floor the same way."
        ),
        "category": "functional",
        "body_regions": ["hip", "leg"],
        "muscle_groups": ["gluteus_maximus", "quadriceps"],
        "equipment": ["ball", "chair"],
        "default_dose": {"sets": 2, "reps": 8, "rest_seconds": 60},
        "safety_notes": (
            "Only bend as low as you can while keeping your heels down; do not drop to a knee "
            "if there is calcinosis on the knees."
        ),
        "video_url": "",
        "image_url": "",
    },
]
