"""Demo CE courses written for Campus: hip and thigh (4 CE hours) and neck and shoulder (1.5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from campus.extensions import db
from campus.learning import services
from campus.learning.models import BoardApproval, Course, Lesson

HIP_SLUG = "trigger-point-therapy-hip-and-thigh"
NECK_SLUG = "trigger-points-neck-and-shoulder"

SAFETY = """
> **Before you press:** deep pressure in the thigh is not for a limb that is swollen, warm,
> red or newly painful without a clear mechanical cause. Think of a deep-vein thrombosis first
> and refer the client the same day.
"""

HIP_MODULES = [
    (
        "Foundations: how hip and thigh trigger points behave",
        "What a trigger point is, how referral works, and how to assess the region safely.",
        [
            (
                "Referred pain in the hip and thigh",
                15,
                """
A myofascial trigger point is a small, exquisitely tender spot within a taut band of skeletal
muscle. Pressing it reproduces a pain the client recognises, often felt some distance away.
That distance is the whole problem in the hip and thigh: the pain a client points to is
frequently *not* where the trigger point lives.

## Why the region fools us

- **Gluteus minimus** can send pain down the outside of the thigh and leg to the ankle. Clients
  and clinicians alike call it "sciatica".
- **Tensor fasciae latae** produces a deep ache over the greater trochanter that looks like
  trochanteric bursitis.
- **Rectus femoris** and the **vasti** refer to the knee, so the knee gets the treatment while
  the thigh keeps the problem.

## Active and latent points

An *active* trigger point causes the client's current complaint. A *latent* point is tender and
tightens the band but causes no spontaneous pain; it still restricts range of motion and can be
activated by overload, a long drive or an awkward sleeping position.

## What perpetuates them

Leg-length differences, a wallet in a back pocket, long periods of sitting with hips flexed,
sudden eccentric loads (stepping off a curb, sprint starts) and sleeping on one side with the
top knee dropped across the body all keep these muscles loaded. A plan that ignores them buys
relief for a day or two.
""",
            ),
            (
                "Assessment, palpation and red flags",
                15,
                """
Start with the story: where it hurts, what provokes it, how the client sleeps and sits. Then
test before you touch.

## A short assessment sequence

1. **Observe** standing posture and gait: a Trendelenburg dip suggests weak or inhibited
   gluteus medius.
2. **Range of motion**: hip flexion, extension, abduction, adduction and rotations, each side.
   Painful or short ranges point to the muscles that limit them.
3. **Palpate** across the fibres with a flat finger for taut bands, then along the band for the
   most tender nodule. Pincer palpation works for TFL, adductors and hamstrings.
4. **Confirm**: sustained pressure on a true trigger point reproduces the client's familiar
   pain, often with a local twitch response.

## Red flags: stop and refer

- Swelling, warmth or redness of the thigh or calf (possible deep-vein thrombosis).
- Night pain that does not change with position, unexplained weight loss, or a history of
  cancer.
- Groin pain with weight bearing after a fall, or in an older client with osteoporosis
  (possible fracture).
- Numbness in the saddle area, new bladder or bowel changes (cauda equina: emergency).

## Anatomy to respect

The **femoral triangle** (femoral nerve, artery and vein) lies under the proximal medial thigh;
work the adductors and the proximal rectus femoris with the pulse in mind and move off it. The
**sciatic nerve** runs beneath piriformis in most people; never hold pressure that causes
tingling or electric pain.
""",
            ),
        ],
    ),
    (
        "The lateral and posterior hip",
        "Gluteus medius and minimus, piriformis and the deep rotators, and TFL.",
        [
            (
                "Gluteus medius and gluteus minimus",
                20,
                """
Both muscles stabilise the pelvis on the stance leg. Every step loads them, so overload is
common in runners, in people who stand on one leg at work and after an ankle sprain changes
the gait.

## Referral patterns

- **Gluteus medius**: along the back of the iliac crest, over the sacrum and into the buttock,
  sometimes onto the upper posterior thigh. Clients describe "low back pain".
- **Gluteus minimus**, anterior fibres: down the lateral thigh and lateral leg to the ankle.
  Posterior fibres: the lower buttock, back of the thigh and calf. The pain can be constant and
  severe, and makes lying on the affected side difficult.

## Finding the points

With the client side-lying and the hip slightly flexed, locate the iliac crest and greater
trochanter. Gluteus medius points lie just below the crest; minimus points lie deeper, between
the anterior crest and the trochanter. Palpate through medius with steady, gradual pressure.

## Treatment

Use **trigger point pressure release**: press to the first barrier of resistance, at a
discomfort the client rates no higher than 7 of 10, and wait. As the tissue softens, follow it
to the next barrier. Finish with **post-isometric relaxation** into adduction: the client
gently pushes into abduction for 5 to 7 seconds, relaxes, and you take up the slack.

## Self-care

A pillow between the knees when side-lying stops the top hip dropping into adduction. A ball
against a wall lets the client hold pressure on the points for 30 to 60 seconds.
""",
            ),
            (
                "Piriformis and the deep rotators",
                15,
                """
Piriformis runs from the anterior sacrum through the greater sciatic notch to the top of the
greater trochanter. It rotates the extended hip laterally and, with the hip flexed past about
60 degrees, helps abduct it.

## Referral pattern and nerve involvement

Piriformis trigger points refer to the sacroiliac region, across the buttock and over the
posterior hip joint, sometimes into the proximal two-thirds of the posterior thigh. A tight
piriformis can also compress the sciatic nerve, which adds tingling or numbness down the leg.
That combination is often called *piriformis syndrome*; it is a diagnosis of exclusion, so
lumbar radiculopathy must be considered first.

## Palpation

Draw a line from the top of the greater trochanter to the point where the sacrum meets the
ilium. The muscle lies under that line, deep to gluteus maximus. Work lateral to the midpoint
first; medially the sciatic nerve is closer to the surface of the muscle.

## Treatment

Gentle sustained pressure through a relaxed gluteus maximus, followed by a stretch into hip
flexion, adduction and rotation. Avoid any position that provokes nerve symptoms. Address
sitting habits: a wallet in the back pocket or a hard car seat can keep the muscle irritated.
""",
            ),
            (
                "Tensor fasciae latae and the iliotibial band",
                15,
                """
TFL flexes, abducts and medially rotates the hip and tensions the iliotibial band. It is short
in people who sit for long hours and overworked in runners and cyclists.

## Referral pattern

Pain deep in the anterolateral hip and over the greater trochanter, sometimes down the lateral
thigh toward the knee. Clients cannot sit with the hip sharply flexed for long and dislike
lying on that side. The picture is easily mistaken for trochanteric bursitis.

## Finding it

The muscle lies just below and behind the anterior superior iliac spine. Ask the client to
rotate the hip medially against your hand: TFL contracts under your fingers.

## About the IT band

The iliotibial band is dense connective tissue, not a muscle; pressing hard on it mostly hurts.
Treat the muscles that tension it (TFL and gluteus maximus) and the vastus lateralis beneath it,
then restore hip extension with a stretch in side-lying or standing.
""",
            ),
        ],
    ),
    (
        "The thigh",
        "Quadriceps, adductors and hamstrings, and a plan that holds.",
        [
            (
                "The quadriceps: rectus femoris and the vasti",
                20,
                """
The quadriceps extend the knee; rectus femoris also flexes the hip. Because their referral
lands on the knee, many "knee problems" begin here.

## Referral patterns

- **Rectus femoris**: a point high in the muscle, just below the anterior inferior iliac spine,
  refers to the front of the knee around and deep to the patella. Clients often wake at night
  with it.
- **Vastus medialis**: to the anteromedial knee; trigger points here can make the knee buckle
  unexpectedly.
- **Vastus lateralis**: along the lateral thigh and the lateral knee. Points near the patella
  can limit its glide, so the kneecap feels "stuck" when the client stands from sitting.
- **Vastus intermedius**: the anterior thigh, with difficulty straightening the knee after
  sitting.

## Technique

Supine, with a bolster under the knee. Use a flat hand or forearm for stripping along the
fibres toward the hip, slowly, 2 to 3 passes, and pressure release on the tender nodules. Work
vastus lateralis with the client side-lying. Stay lateral to the femoral triangle when working
rectus femoris near its origin.

## Stretch and self-care

Prone or side-lying knee flexion with the hip extended lengthens rectus femoris. Clients can
use a foam roller on the lateral and anterior thigh, slowly, stopping on tender spots rather
than rolling fast over them.
""",
            ),
            (
                "Adductors and hamstrings",
                20,
                SAFETY
                + """
## The adductors

Adductor longus and brevis refer pain to the groin and the anteromedial thigh, sometimes down
to the knee and shin, worse with weight bearing and sudden changes of direction. Adductor
magnus refers to the groin and medial thigh, and its upper fibres can produce a deep pain felt
inside the pelvis.

Work them supine with the hip flexed, abducted and laterally rotated, the leg supported on a
pillow. Use pincer palpation for the upper adductors and flat palpation for magnus. Keep the
femoral pulse in mind at the top of the thigh.

## The hamstrings

- **Semitendinosus and semimembranosus**: to the lower buttock, the back of the thigh and the
  posteromedial knee.
- **Biceps femoris**: mainly to the back of the knee, with spill into the posterior thigh.

Hamstring trigger points make sitting uncomfortable, especially on hard chairs or with the
thigh pressed against the seat edge. Treat prone with the knee slightly flexed on a bolster,
then lengthen with a straight-leg raise held at a comfortable tension and combined with
post-isometric relaxation.

## A tip on sequencing

Short adductors and hamstrings limit hip abduction and flexion together. Release the adductors
first; the hamstrings stretch more easily afterwards.
""",
            ),
            (
                "Putting it together: a treatment plan that holds",
                20,
                """
A session in this region usually follows the same arc:

1. **Reassess** the movements that were limited or painful last time.
2. **Warm** the tissue with broad, general strokes.
3. **Release** the active trigger points you found, most proximal first.
4. **Lengthen** each treated muscle to its full comfortable range.
5. **Move**: ask for a few active repetitions of the full range to reset the muscle.
6. **Reassess** and show the client what changed.

## Home care that clients actually do

Give two or three things, not ten: one ball-against-the-wall release for the gluteals, one
stretch for the muscle that limited movement most, and one change to a perpetuating habit
(wallet out of the back pocket, pillow between the knees, standing every 30 minutes at work).

## Document it

Record the points found, the referral reproduced, the techniques used, the client's pain
rating before and after, range-of-motion changes, and the home care given. Good notes make
progress visible and support any referral.

## When progress stalls

If pain returns to the same level within two or three visits, look again for perpetuating
factors and for conditions outside your scope (hip joint pathology, lumbar radiculopathy,
vascular disease). Refer when in doubt.
""",
            ),
        ],
    ),
]

HIP_QUESTIONS = [
    {
        "prompt": "A client has pain down the lateral thigh and leg to the ankle and calls it "
        "sciatica. Which muscle's trigger points most often produce this pattern?",
        "choices": [
            ("Gluteus minimus (anterior fibres)", True),
            ("Gluteus maximus", False),
            ("Adductor longus", False),
            ("Sartorius", False),
        ],
        "explanation": "The anterior fibres of gluteus minimus refer down the lateral thigh and "
        "leg to the ankle, a pattern often mistaken for sciatica.",
    },
    {
        "prompt": "Which findings are red flags that call for referral instead of deep thigh "
        "work? Select all that apply.",
        "choices": [
            ("A warm, swollen, red thigh without a clear cause", True),
            ("Numbness in the saddle area with new bladder changes", True),
            ("Tenderness that reproduces familiar pain under sustained pressure", False),
            ("Night pain unchanged by position and unexplained weight loss", True),
        ],
        "explanation": "Possible deep-vein thrombosis, cauda equina syndrome and serious "
        "pathology must be referred; reproduction of familiar pain is how trigger points are "
        "confirmed.",
    },
    {
        "prompt": "Trigger points in the tensor fasciae latae are most often mistaken for which "
        "condition?",
        "choices": [
            ("Trochanteric bursitis", True),
            ("Patellar tendinopathy", False),
            ("Plantar fasciitis", False),
            ("Adductor strain", False),
        ],
        "explanation": "TFL refers deep pain over the greater trochanter and lateral hip, which "
        "resembles trochanteric bursitis.",
    },
    {
        "prompt": "Where does the sciatic nerve run in relation to piriformis in most people?",
        "choices": [
            ("Beneath (inferior to) the muscle", True),
            ("Through the middle of the muscle belly in everyone", False),
            ("Anterior to the femoral neck", False),
            ("Through the femoral triangle", False),
        ],
        "explanation": "In most people the nerve exits below piriformis; variants exist, so any "
        "tingling or electric pain means easing off.",
    },
    {
        "prompt": "Which muscles commonly refer pain to the knee? Select all that apply.",
        "choices": [
            ("Rectus femoris", True),
            ("Vastus medialis", True),
            ("Biceps femoris", True),
            ("Piriformis", False),
        ],
        "explanation": "Rectus femoris refers around the patella, vastus medialis to the "
        "anteromedial knee and biceps femoris to the back of the knee; piriformis refers to "
        "the buttock and posterior hip.",
    },
    {
        "prompt": "During trigger point pressure release, what intensity should the client report?",
        "choices": [
            ("Discomfort no higher than about 7 out of 10", True),
            ("The most pain they can tolerate, to break the point up", False),
            ("No sensation at all", False),
            ("Tingling down the leg", False),
        ],
        "explanation": "Work at the first barrier at a tolerable discomfort (no more than about "
        "7/10) and follow the tissue as it releases; more pain causes guarding.",
    },
    {
        "prompt": "A client's knee buckles unexpectedly when walking. Trigger points in which "
        "muscle are a likely contributor?",
        "choices": [
            ("Vastus medialis", True),
            ("Gluteus medius", False),
            ("Tensor fasciae latae", False),
            ("Adductor magnus", False),
        ],
        "explanation": "Vastus medialis trigger points can inhibit the muscle enough to make the "
        "knee give way.",
    },
    {
        "prompt": "Which are perpetuating factors for hip trigger points? Select all that apply.",
        "choices": [
            ("Sitting on a wallet in a back pocket", True),
            ("Side-lying with the top knee dropped across the body", True),
            ("Long periods of sitting with the hips flexed", True),
            ("Drinking water during the day", False),
        ],
        "explanation": "Each of the first three loads or shortens hip muscles for long periods; "
        "hydration is not a perpetuating factor.",
    },
    {
        "prompt": "When working adductor longus near its origin, which structure must you keep "
        "in mind?",
        "choices": [
            ("The femoral nerve, artery and vein in the femoral triangle", True),
            ("The common peroneal nerve", False),
            ("The tibial nerve", False),
            ("The iliotibial band", False),
        ],
        "explanation": "The femoral triangle lies under the proximal medial thigh; feel for the "
        "pulse and move off it.",
    },
    {
        "prompt": "Why is hard pressure on the iliotibial band itself a poor choice?",
        "choices": [
            ("It is dense connective tissue, not muscle, so it hurts without releasing", True),
            ("It contains the main trigger points of the lateral thigh", False),
            ("It is the origin of the hamstrings", False),
            ("It must never be touched at all", False),
        ],
        "explanation": "Treat the muscles that tension the band (TFL, gluteus maximus) and "
        "vastus lateralis beneath it rather than grinding on the band.",
    },
]

NECK_MODULES = [
    (
        "Upper trapezius and levator scapulae",
        "The two muscles behind most desk-related neck pain and tension headaches.",
        [
            (
                "Upper trapezius: the headache muscle",
                20,
                """
Upper trapezius elevates and upwardly rotates the scapula and extends and side-bends the neck.
Hours at a keyboard with raised shoulders, a phone held between ear and shoulder, or a heavy
bag on one side keep it contracted.

## Referral pattern

Its most common trigger point, in the free border of the muscle midway along the shoulder,
refers up the side of the neck, behind the ear and to the temple: a classic tension headache,
sometimes felt behind the eye.

## Treatment

Pincer palpation is easiest: lift the free border between thumb and fingers with the client
supine and the head side-bent slightly toward you to slacken it. Hold tolerable pressure until
the point softens, then lengthen with gentle side-bending away and slight flexion.

## Self-care

Armrests or a desk at elbow height let the shoulders drop. Clients can squeeze the border of
the muscle themselves for 30 seconds, then roll the shoulders back and down.
""",
            ),
            (
                "Levator scapulae: the stiff neck",
                15,
                """
Levator scapulae runs from the transverse processes of C1 to C4 to the superior angle of the
scapula. It elevates the scapula and rotates it downward.

## Referral pattern

Pain at the angle of the neck where it meets the shoulder, with spill along the medial border
of the scapula. The hallmark is a neck that will not turn toward the painful side: clients
turn their whole body to check a blind spot when driving.

## Finding the points

One point sits just above the superior angle of the scapula, another at the angle of the neck
where the muscle emerges from under the trapezius. Have the client shrug lightly to feel it
contract.

## Treatment

Sustained pressure on both points, then a stretch: rotate the head 45 degrees away from the
painful side, then flex it toward the opposite armpit while the client keeps the shoulder down.
Correct the perpetuating factor: a monitor off to one side, or sleeping with the neck tilted.
""",
            ),
        ],
    ),
    (
        "The back of the head and the shoulder",
        "Suboccipitals and infraspinatus.",
        [
            (
                "The suboccipital muscles",
                15,
                """
Four small muscles connect the upper cervical vertebrae and the occiput. They make fine
adjustments of head position and tighten whenever the head pokes forward of the shoulders.

## Referral pattern

A band of pain that wraps from the back of the head toward the eye and forehead, often
described as a headache "inside the head". Clients may find it hard to rest the back of the
head on a pillow.

## Treatment

With the client supine, curl the fingertips under the occiput and let the weight of the head
provide the pressure for 60 to 90 seconds. Finish with gentle chin tucks. Avoid strong
rotation with extension in this region; any dizziness, visual change or nausea means stop and
refer.
""",
            ),
            (
                "Infraspinatus: shoulder pain that is not the joint",
                15,
                """
Infraspinatus laterally rotates the arm and steadies the head of the humerus. Its trigger
points refer deep into the front of the shoulder and down the front and side of the arm,
sometimes into the hand, so clients are sure the joint itself is injured.

## Clues

Difficulty reaching behind the back to fasten a bra or tuck in a shirt, and pain lying on
either side at night.

## Treatment

Prone or side-lying, palpate just below the spine of the scapula and along the muscle's
belly; pressure release there is often surprisingly tender. Follow with gentle medial rotation
stretching. Refer when there is a history of trauma, marked weakness or night pain that does
not ease with position.
""",
            ),
        ],
    ),
]

NECK_QUESTIONS = [
    {
        "prompt": "Upper trapezius trigger points most often refer pain to which area?",
        "choices": [
            ("The side of the neck, behind the ear and the temple", True),
            ("The lower back", False),
            ("The front of the thigh", False),
        ],
        "explanation": "The classic upper trapezius point refers up the neck to the temple, "
        "producing a tension-type headache.",
    },
    {
        "prompt": "A client turns their whole body to check a blind spot while driving. Which "
        "muscle should you assess first?",
        "choices": [
            ("Levator scapulae", True),
            ("Infraspinatus", False),
            ("Pectoralis major", False),
        ],
        "explanation": "Levator scapulae trigger points limit rotation toward the painful side.",
    },
    {
        "prompt": "Which signs during suboccipital work mean stop and refer? Select all that "
        "apply.",
        "choices": [
            ("Dizziness", True),
            ("Visual disturbance", True),
            ("A softening of the tissue under your fingers", False),
            ("Nausea", True),
        ],
        "explanation": "Dizziness, visual change and nausea can signal vascular or neurological "
        "problems; a softening tissue is the release you are working for.",
    },
    {
        "prompt": "Infraspinatus trigger points typically refer pain to:",
        "choices": [
            ("Deep in the front of the shoulder and down the arm", True),
            ("The forehead", False),
            ("The sacrum", False),
        ],
        "explanation": "The referral to the front of the shoulder makes clients believe the "
        "joint is injured.",
    },
    {
        "prompt": "Which habits perpetuate upper trapezius trigger points? Select all that apply.",
        "choices": [
            ("Holding a phone between ear and shoulder", True),
            ("A desk so high the shoulders stay raised", True),
            ("Carrying a heavy bag on one shoulder", True),
            ("Walking for 20 minutes a day", False),
        ],
        "explanation": "Each of the first three keeps the muscle contracted for long periods.",
    },
]

HIP_HANDOUT = """HIP AND THIGH SELF-CARE: THREE THINGS A DAY

1. Gluteal ball release (2 minutes a side)
   Stand with your back to a wall and a tennis ball between the wall and the tender spot in
   your buttock. Lean in until the pressure is firm but no worse than 7 out of 10. Hold for
   30 to 60 seconds, breathing slowly, until it eases. Move to the next spot.

2. Side-lying with support
   When you sleep on your side, keep a pillow between your knees so the top hip does not drop
   across your body.

3. Stand up every 30 minutes
   Long periods of sitting shorten the hip flexors and load the deep rotators. Stand, walk a
   few steps and take the hip gently into extension.

Stop and call your clinician if your thigh or calf becomes swollen, warm or red, or if you
notice numbness in the saddle area or changes in bladder or bowel control.
"""


def _build(
    slug: str, fields: dict, modules: list, questions: list, quiz: dict, approvals: list
) -> Course:
    course = services.create_course(slug=slug, **fields)
    for board, number, valid_until in approvals:
        course.approvals.append(
            BoardApproval(board=board, approval_number=number, valid_until=valid_until)
        )
    for title, summary, lessons in modules:
        module = services.add_module(course, title, summary)
        for lesson_title, minutes, body in lessons:
            services.add_lesson(
                module,
                lesson_title,
                body,
                estimated_minutes=minutes,
            )
    services.set_quiz(course, questions, **quiz)
    services.publish(course)
    return course


def seed() -> list[str]:
    """Create the two demo CE courses if they are missing (matched by slug)."""
    created: list[str] = []
    existing = set(
        db.session.scalars(select(Course.slug).where(Course.slug.in_([HIP_SLUG, NECK_SLUG])))
    )
    if HIP_SLUG not in existing:
        course = _build(
            HIP_SLUG,
            {
                "title": "Trigger Point Therapy for the Hip and Thigh",
                "summary": "Find and treat the trigger points behind hip, thigh and knee pain: "
                "gluteals, piriformis, TFL, quadriceps, adductors and hamstrings.",
                "description": (
                    "Hip and thigh pain rarely starts where the client feels it. This course "
                    "follows the referral patterns of the muscles of the hip and thigh, shows "
                    "how to find and confirm their trigger points, and builds a treatment plan "
                    "that combines pressure release, stretching and simple home care.\n\n"
                    "It is written for hands-on clinicians who already know surface anatomy "
                    "and want a clear, safe, repeatable approach for the region. Each lesson "
                    "takes 15 to 20 minutes; the final quiz has 10 questions."
                ),
                "objectives": "\n".join(
                    [
                        "Describe the referral patterns of the gluteal, piriformis, TFL, "
                        "quadriceps, adductor and hamstring trigger points",
                        "Recognise red flags in the hip and thigh that call for referral",
                        "Locate and confirm trigger points with flat and pincer palpation",
                        "Apply trigger point pressure release and post-isometric relaxation "
                        "safely around the femoral triangle and sciatic nerve",
                        "Build a treatment plan with home care that addresses perpetuating factors",
                    ]
                ),
                "presenters": "Maren Okafor, LMT, BCTMB\nDr. Luis Ferreira, PT, DPT",
                "presenter_bio": "Maren Okafor has treated runners and desk workers for sixteen "
                "years and teaches myofascial technique to massage therapy students. Luis "
                "Ferreira is an orthopaedic physical therapist who lectures on differential "
                "diagnosis of hip pain.",
                "ce_hours": Decimal("4"),
                "delivery_type": "home_study",
                "level": "intermediate",
                "topic": "Hip and thigh",
                "professions": [
                    "massage_therapist",
                    "physical_therapist",
                    "athletic_trainer",
                    "chiropractor",
                ],
            },
            HIP_MODULES,
            HIP_QUESTIONS,
            {
                "pass_mark_percent": 70,
                "attempts_per_day": 3,
                "instructions": "Ten questions on the whole course. Take your time; you can "
                "look back at the lessons.",
            },
            [
                ("NCBTMB", "Approved Provider #1387-00", date(2027, 12, 31)),
                ("BOC", "Approved Provider P10245", date(2027, 6, 30)),
            ],
        )
        last = db.session.get_one(Lesson, services.outline(course, None).lessons[-1].id)
        services.add_resource(
            last,
            "Hip and thigh self-care handout",
            "hip-and-thigh-self-care.txt",
            HIP_HANDOUT.encode(),
            "text/plain; charset=utf-8",
        )
        created.append(f"created course {course.title} ({HIP_SLUG})")
    if NECK_SLUG not in existing:
        course = _build(
            NECK_SLUG,
            {
                "title": "Trigger Points of the Neck and Shoulder",
                "summary": "Upper trapezius, levator scapulae, the suboccipitals and "
                "infraspinatus: headaches, stiff necks and shoulder pain that is not the joint.",
                "description": (
                    "A short course on four muscles that account for much of the neck, head "
                    "and shoulder pain seen in practice. For each: the referral pattern, how "
                    "to find the points, a safe release and a stretch, and the habit to change."
                ),
                "objectives": "\n".join(
                    [
                        "Relate tension headaches and stiff necks to trapezius, levator "
                        "scapulae and suboccipital trigger points",
                        "Distinguish infraspinatus referral from shoulder joint pain",
                        "Recognise the signs that mean stop and refer when working the upper neck",
                    ]
                ),
                "presenters": "Maren Okafor, LMT, BCTMB",
                "presenter_bio": "Maren Okafor has treated runners and desk workers for sixteen "
                "years and teaches myofascial technique to massage therapy students.",
                "ce_hours": Decimal("1.5"),
                "delivery_type": "home_study",
                "level": "introductory",
                "topic": "Neck and shoulder",
                "professions": ["massage_therapist", "athletic_trainer", "chiropractor"],
            },
            NECK_MODULES,
            NECK_QUESTIONS,
            {"pass_mark_percent": 80, "attempts_per_day": 3},
            [("NCBTMB", "Approved Provider #1387-00", date(2027, 12, 31))],
        )
        created.append(f"created course {course.title} ({NECK_SLUG})")
    return created
